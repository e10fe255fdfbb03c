package audit

import (
	"fmt"
	"slices"
)

// Check names of the generated grammar fuzzer (scenarios/explore.GrammarCases).
const (
	CheckA24 = "A24 generated grammar: no 5xx"
	CheckA25 = "A25 generated grammar: every invalid request refused, every valid one accepted"
	CheckA26 = "A26 generated grammar: refused requests changed nothing (digest and seq)"
)

// GrammarResult is one generated case and its answer.
type GrammarResult struct {
	Name   string
	Valid  bool
	Bound  bool     // a valid case holding a value at a documented bound
	Codes  []string // acceptable refusal codes of an invalid case
	Status int
	Code   string
	Err    string
}

// JudgeGrammar judges the answers: no 5xx (A24); every invalid case
// refused with a documented code, every valid case past the grammar — never
// refused with one of grammarCodes (A25); and the state (digest and seq)
// unchanged across the invalid cases (A26; "" when the backend serves no
// digest: A26 then judges nothing).
func JudgeGrammar(rs []GrammarResult, grammarCodes []string, digestBefore, digestAfter string) []Finding {
	var a24, a25, a26 violations
	for _, r := range rs {
		a24.judged++
		a25.judged++
		switch {
		case r.Status == 0 || r.Status >= 500:
			a24.add("%s: answered %d %s %s", r.Name, r.Status, r.Code, r.Err)
		case r.Valid && r.Status >= 400 && slices.Contains(grammarCodes, r.Code):
			a25.add("%s: a valid request refused by the grammar: %d %s", r.Name, r.Status, r.Code)
		case r.Valid && r.Bound && len(grammarCodes) > 0 && r.Code == "invalid":
			a25.add("%s: a value at its documented bound refused as invalid: %d %s", r.Name, r.Status, r.Code)
		case !r.Valid && r.Status < 400:
			a25.add("%s: accepted (%d), the grammar refuses it with %v", r.Name, r.Status, r.Codes)
		case !r.Valid && len(r.Codes) > 0 && !slices.Contains(r.Codes, r.Code):
			a25.add("%s: refused %d %s, the documented refusal is %v", r.Name, r.Status, r.Code, r.Codes)
		}
	}
	invalid, accepted := 0, 0
	for _, r := range rs {
		if !r.Valid {
			invalid++
			if r.Status > 0 && r.Status < 400 {
				accepted++
			}
		}
	}
	a26detail := ""
	switch {
	case digestBefore == "":
	case accepted > 0:
		// An accepted one moves the digest rightly: A25 names it.
		a26detail = fmt.Sprintf("not measured: %d of the %d invalid requests were accepted (A25), so the digest cannot show what the refused ones changed", accepted, invalid)
	default:
		a26.judged = invalid
		if digestBefore != digestAfter {
			a26.add("the digest moved across %d refused requests: %s → %s", invalid, digestBefore, digestAfter)
		}
	}
	return []Finding{
		a24.finding(CheckA24, fmt.Sprintf("%d 5xx in %d requests", a24.count, a24.judged), "0", ""),
		a25.finding(CheckA25, fmt.Sprintf("%d wrong answers in %d requests", a25.count, a25.judged), "0", ""),
		a26.finding(CheckA26, fmt.Sprintf("%d state changes over %d refused requests", a26.count, invalid), "0", a26detail),
	}
}
