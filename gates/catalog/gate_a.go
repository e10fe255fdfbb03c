package catalog

// Gate A — event integrity. Every check of gates A and B is critical (a
// failing A or B is NO-GO, SPEC §8), but A12.
var gateA = []Check{
	{ID: "A1", Gate: "A", Critical: true, Title: "every line parses and passes its checksum",
		Rules: rs("§3 checksum"), Routes: rs(Agents, Consume), Needs: caps(CapJournal)},
	{ID: "A2", Gate: "A", Critical: true, Title: "seq is gapless and strictly increasing",
		Rules: rs("§3 checksum"), Routes: rs(Agents, Consume), Needs: caps(CapJournal)},
	{ID: "A3", Gate: "A", Critical: true, Title: "schema_version >= 1",
		Rules: rs("§2 envelope"), Routes: rs(Agents, Consume), Needs: caps(CapJournal)},
	{ID: "A4", Gate: "A", Critical: true, Title: "correlation_id is non-empty",
		Rules: rs("§2 envelope"), Routes: rs(Agents, Consume), Needs: caps(CapJournal)},
	{ID: "A5", Gate: "A", Critical: true, Title: "causation_id names an earlier event of the same subject; a derived event names the cause SPEC §2 gives it",
		Rules: rs("§2 causation"), Routes: rs(Agents, Consume, Collaborations, ApprovalRequest, Approve, MissionStart, MissionComplete, MissionCancel), Needs: caps(CapJournal)},
	{ID: "A28", Gate: "A", Critical: true, Title: "timestamps are RFC 3339 in UTC and never go back along seq",
		Rules: rs("§2 envelope"), Routes: rs(Agents, Consume), Needs: caps(CapJournal)},
	{ID: "A6", Gate: "A", Critical: true, Title: "event_id is a unique UUID v4",
		Rules: rs("§2 envelope"), Routes: rs(Agents, Consume), Needs: caps(CapJournal)},
	{ID: "A7", Gate: "A", Critical: true, Title: "each idempotency key appears at most once",
		Rules: rs("§3 concurrent duplicates"), Routes: rs(Agents, Consume), Needs: caps(CapJournal)},
	{ID: "A8", Gate: "A", Critical: true, Title: "acknowledged ops are journaled once, refused never, nothing unrequested",
		Rules: rs("§3 durability"), Routes: rs(Agents, Consume, Add), Needs: caps(CapJournal)},
	{ID: "A9", Gate: "A", Critical: true, Title: "acknowledged ops and retries name the original event",
		Rules: rs("§3 idempotent retry"), Routes: rs(Agents, Consume), Needs: caps(CapJournal)},
	{ID: "A10", Gate: "A", Critical: true, Title: "multi-event commands are complete and contiguous",
		Rules: rs("§2 causation"), Routes: rs(Agents, Consume, ApprovalRequest, Approve), Needs: caps(CapJournal)},

	// Black-box: judged from the client history and what the API shows, on
	// any backend (gates/audit/blackbox.go).
	{ID: "A11", Gate: "A", Critical: true, Title: "a keyed retry answered 2xx never moved money again",
		Rules: rs("§3 idempotent retry", "§8 any backend"), Routes: rs(Agents, Consume, Add, Balance)},
	{ID: "A30", Gate: "A", Critical: true, Title: "a keyed retry answered 2xx returns the original result: the original's balance_after, whatever was written since (across a kill -9 too)",
		Rules: rs("§3 idempotent retry", "§8 any backend"), Routes: rs(Agents, Consume, Add)},
	// A12 is measured only where the backend answered a write with a 5xx
	// (no black-box workload can make it): not critical, so a backend that
	// never fails is not INCOMPLETE for it; a failure still fails gate A.
	{ID: "A12", Gate: "A", Title: "a write answered 5xx changed no state",
		Rules: rs("§3 durability", "§8 any backend"), Routes: rs(Agents, Consume, Balance)},
	{ID: "A13", Gate: "A", Critical: true, Title: "non-finite, negative and absurd amounts are refused and change nothing",
		Rules: rs("§1 input", "§8 any backend"), Routes: rs(Agents, Consume, Add, Balance)},

	// A14–A16 and A29 retry every kind of command the backend serves (a
	// backend with only the original's routes: consume, refund, add) and
	// read what a retry wrote from GET /digest where it is served, else
	// from GET /balances; the detail names the commands not sent.
	{ID: "A14", Gate: "A", Critical: true, Title: "retry after a clean restart returns the original event and writes nothing",
		Rules: rs("§3 keys survive restarts"), Routes: rs(Agents, Consume, Balances),
		Needs: caps(CapRestart)},
	{ID: "A29", Gate: "A", Critical: true, Title: "a retry of a key used before 5,000 other keyed commands returns the original answer and writes nothing (keys by retention, not count)",
		Rules: rs("§3 keys survive restarts"), Routes: rs(Agents, Consume, Balances)},
	{ID: "A15", Gate: "A", Critical: true, Title: "retry after kill -9 and replay returns the original event and writes nothing",
		Rules: rs("§3 keys survive restarts"), Routes: rs(Agents, Consume, Balances),
		Needs: caps(CapCrash)},
	{ID: "A16", Gate: "A", Critical: true, Title: "same key with a different body, or on another route, is 409 idempotency_key_conflict and writes nothing",
		Rules: rs("§3 key conflict"), Routes: rs(Agents, Consume, Balances)},
	{ID: "A32", Gate: "A", Critical: true, Title: "a retry whose body gives the same members in another order is the same request: the original answer, nothing written",
		Rules: rs("§3 idempotent retry"), Routes: rs(Agents, Consume, Balances)},
	{ID: "A31", Gate: "A", Critical: true, Title: "a key differing from an earlier one only in letter case is another key: its command executes, and its retries name it (across restarts too)",
		Rules: rs("§3 idempotent retry", "§3 key conflict"), Routes: rs(Agents, Consume, Balances)},
	{ID: "A17", Gate: "A", Critical: true, Title: "retry injection exercised",
		Rules: rs("§3 idempotent retry"), Routes: rs(Agents, Consume)},
	{ID: "A18", Gate: "A", Critical: true, Title: "unexpected errors in the storm",
		Rules: rs("§5 consume"), Routes: rs(Agents, Consume)},
	{ID: "A19", Gate: "A", Critical: true, Title: "hostile input: no 5xx answer",
		Rules: rs("§6 errors"), Routes: rs(Agents, Consume)},
	{ID: "A20", Gate: "A", Critical: true, Title: "hostile input: no hostile request accepted",
		Rules: rs("§1 input", "§6 errors"), Routes: rs(Agents, Consume)},
	{ID: "A21", Gate: "A", Critical: true, Title: "hostile input: refused requests changed no state",
		Rules: rs("§6 errors"), Routes: rs(Agents, Consume)},
	{ID: "A22", Gate: "A", Critical: true, Title: "hostile input: a valid request after the fuzz is accepted",
		Rules: rs("§6 errors"), Routes: rs(Agents, Consume)},
	// A27: our engine's own request contract beyond SPEC (docs/events.md
	// §5b); another backend is not judged by it.
	{ID: "A27", Gate: "A", Title: "hostile input beyond SPEC (invalid UTF-8, duplicate members, a wrong Content-Type) refused",
		Rules: rs("§6 errors"), Routes: rs(Agents, Consume), Needs: caps(CapCreditd)},
	{ID: "A23", Gate: "A", Critical: true, Title: "the journal is readable (file or GET /events)",
		Rules: rs("§6 journal over HTTP"), Needs: caps(CapJournal)},
}

func caps(c ...Capability) []Capability { return c }
