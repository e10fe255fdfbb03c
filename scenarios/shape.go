package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/creditgate/creditgate/scenarios/history"
)

// BackendShaped reports whether SPEC §6 leaves the request body of an
// operation to the backend: pools, missions and synergie collaborations
// ("pools and mission hooks (document them)"). Our workloads send our own
// engine's shapes there; another conforming backend may take others.
func BackendShaped(k history.Kind) bool {
	switch k {
	case history.KindPoolCreate, history.KindPoolAllocate, history.KindPoolConsume, history.KindPoolRefund, history.KindPoolClose,
		history.KindPoolTransfer, history.KindPoolMember, history.KindMissionStart, history.KindMissionComplete,
		history.KindMissionFail, history.KindMissionCancel, history.KindMissionRate, history.KindCollaboration:
		return true
	}
	return false
}

// BodyDocs is what a backend documents of its request bodies (its OpenAPI
// document). BodyMembers returns the route template serving method and
// path and the top-level members its request body schema names; ok is
// false when the backend documents none for it (no document, no schema,
// or a schema without properties).
type BodyDocs interface {
	BodyMembers(method, path string) (route string, members []string, ok bool)
}

// synonyms are other names a backend may give a member our workloads send
// on a backend-shaped route (SPEC names none of them). A member the
// backend does not document is renamed to the first of these it does.
var synonyms = map[string][]string{
	"refund_to":           {"agent_id", "to_agent_id", "recipient_id"},
	"members":             {"member_ids", "agent_ids"},
	"to_pool_id":          {"target_pool_id", "to"},
	"contribution_scores": {"contributions", "scores"},
}

// fitted is one body fitted to what the backend documents.
type fitted struct {
	body    map[string]any
	members []string // pool members to add through POST /pools/{id}/members after the create
	notes   []string // what changed, one line each, for the report
}

// fitBody fits a body on a backend-shaped route to the members the backend
// documents for it: a member it does not document is renamed to a
// documented synonym, a pool's members at creation are added one by one
// through the members route when only that documents them, and any other
// member it does not document is left out — except one that carries
// meaning (a synonym exists but none is documented): that one is sent as
// is, so a backend that refuses it is reported not measured, never judged
// on a body it did not ask for. Bodies on routes the backend documents no
// members for are sent unchanged.
func fitBody(docs BodyDocs, method, path string, body map[string]any) (fitted, bool) {
	route, members, ok := docs.BodyMembers(method, path)
	if !ok {
		return fitted{}, false
	}
	doc := map[string]bool{"idempotency_key": true}
	for _, m := range members {
		doc[m] = true
	}
	out := fitted{body: map[string]any{}}
	for _, k := range slices.Sorted(maps.Keys(body)) {
		v := body[k]
		if doc[k] {
			out.body[k] = v
			continue
		}
		if alt := slices.IndexFunc(synonyms[k], func(s string) bool { _, taken := body[s]; return doc[s] && !taken }); alt >= 0 {
			out.body[synonyms[k][alt]] = v
			out.notes = append(out.notes, fmt.Sprintf("%s: %s sent as %s", route, k, synonyms[k][alt]))
			continue
		}
		if k == "members" && method == "POST" && MutationKind(path) == history.KindPoolCreate {
			if ids, ok := memberIDs(v); ok && poolID(body) != "" {
				if _, mm, ok := docs.BodyMembers("POST", path+"/"+poolID(body)+"/members"); ok && slices.Contains(mm, "agent_id") {
					out.members = ids
					out.notes = append(out.notes, fmt.Sprintf("%s: members added one by one through POST %s/{id}/members", route, path))
					continue
				}
			}
		}
		if synonyms[k] != nil || k == "members" {
			out.body[k] = v
			continue
		}
		out.notes = append(out.notes, fmt.Sprintf("%s: %s left out (not in the documented body)", route, k))
	}
	return out, true
}

func poolID(body map[string]any) string { s, _ := body["pool_id"].(string); return s }

func memberIDs(v any) ([]string, bool) {
	switch l := v.(type) {
	case []string:
		return l, true
	case []any:
		out := make([]string, 0, len(l))
		for _, x := range l {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// Fitted lists, sorted, how request bodies were fitted to the backend's
// documented shapes in this client's life (empty when none was).
func (c *Client) Fitted() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.fitNotes))
	for n := range c.fitNotes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (c *Client) noteFitted(notes []string) {
	if len(notes) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fitNotes == nil {
		c.fitNotes = map[string]bool{}
	}
	for _, n := range notes {
		c.fitNotes[n] = true
	}
}

// memberCall adds one pool member after a create whose body listed it: the
// create's key with "-member-<i>" (so a retried create retries its adds
// too), token, role and instance.
func memberCall(create Call, path string, i int, agent string) Call {
	c := Call{Method: "POST", Path: strings.TrimRight(path, "/") + "/members", Body: map[string]any{"agent_id": agent},
		Kind: history.KindPoolMember, Role: create.Role, Agent: agent, Entity: create.Entity, Token: create.Token,
		Base: create.Base, KeyInBody: create.KeyInBody}
	if create.Key != "" {
		c.Key = fmt.Sprintf("%s-member-%d", create.Key, i)
	}
	return c
}
