package projection

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/creditgate/creditgate/engine/event"
)

// DecodeCredit decodes a credit payload exactly as json.Unmarshal would.
// Payloads in the canonical shape json.Marshal(event.Credit) writes (fixed
// field order, no escapes) are parsed by hand: credit events dominate a
// journal, and reflection-based decoding of them was most of the replay time
// (SPEC §9: ≥ 500k events/s). Anything else goes through encoding/json.
func DecodeCredit(b []byte) (event.Credit, error) {
	if c, ok := fastCredit(b); ok {
		return c, nil
	}
	var c event.Credit
	err := json.Unmarshal(b, &c)
	return c, err
}

func fastCredit(b []byte) (c event.Credit, ok bool) {
	p := scan{b: b}
	if !p.lit(`{"agent_id":`) {
		return c, false
	}
	if c.AgentID, ok = p.str(); !ok || !p.lit(`,"amount_milli":`) {
		return c, false
	}
	if c.AmountMilli, ok = p.int(); !ok || !p.lit(`,"balance_after_milli":`) {
		return c, false
	}
	if c.BalanceAfterMilli, ok = p.int(); !ok || !p.lit(`,"reason":`) {
		return c, false
	}
	if c.Reason, ok = p.str(); !ok {
		return c, false
	}
	if p.lit(`,"mission_id":`) {
		if c.MissionID, ok = p.str(); !ok {
			return c, false
		}
	}
	return c, p.lit("}") && p.i == len(b)
}

type scan struct {
	b []byte
	i int
}

func (p *scan) lit(s string) bool {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

// str reads a string without escapes or control bytes, valid UTF-8.
func (p *scan) str() (string, bool) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", false
	}
	for j := p.i + 1; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			s := p.b[p.i+1 : j]
			if !utf8.Valid(s) {
				return "", false
			}
			p.i = j + 1
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

// int reads a JSON integer that fits int64.
func (p *scan) int() (int64, bool) {
	j := p.i
	if j < len(p.b) && p.b[j] == '-' {
		j++
	}
	start := j
	for j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9' {
		j++
	}
	if j == start || j-start > 19 || (p.b[start] == '0' && j-start > 1) {
		return 0, false
	}
	v, err := strconv.ParseInt(string(p.b[p.i:j]), 10, 64)
	if err != nil {
		return 0, false
	}
	p.i = j
	return v, true
}
