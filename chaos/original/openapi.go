package original

import (
	"net/http"
	"strings"
)

// openapi serves a minimal OpenAPI 3 document of the routes (Config.OpenAPI):
// what FastAPI would publish, so the harness's discovery can read it.
func (s *Server) openapi(w http.ResponseWriter, _ *http.Request, _ string) {
	paths := map[string]any{}
	for _, rt := range s.routes() {
		p := "/" + strings.Join(rt.pattern, "/")
		p = strings.Replace(p, "{}", "{agent_id}", 1)
		ops, _ := paths[p].(map[string]any)
		if ops == nil {
			ops = map[string]any{}
			paths[p] = ops
		}
		op := map[string]any{"responses": map[string]any{"200": map[string]any{"description": "Successful Response"}}}
		if strings.Contains(p, "{agent_id}") {
			op["parameters"] = []any{map[string]any{"name": "agent_id", "in": "path", "required": true,
				"schema": map[string]any{"type": "string"}}}
		}
		ops[strings.ToLower(rt.method)] = op
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "Credit System (original)", "version": version},
		"paths":   paths,
	})
}
