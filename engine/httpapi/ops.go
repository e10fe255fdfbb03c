package httpapi

import "net/http"

func (s *Server) eoc(w http.ResponseWriter, r *http.Request) {
	snap, err := s.eng.EoC()
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, snap)
}

func (s *Server) karmaStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.eng.KarmaStatus())
}

func (s *Server) digest(w http.ResponseWriter, r *http.Request) {
	seq, d, err := s.eng.Digest()
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"seq": seq, "digest": d})
}

func (s *Server) verify(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.eng.Recovery())
}
