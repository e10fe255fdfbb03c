// Package catalog declares every check the gates record, once: its ID, gate,
// title, criticality, the SPEC rules it guards, the routes it calls and the
// target capabilities it needs (STYLE 20: a test declares what it needs; the
// runner matches).
//
// The harness (gates/harness) records a measurement against an ID and decides
// from this entry alone whether the check applies to the target: a missing
// capability is SKIP with the remedy, a route the backend lacks is N/A, a
// measurement over nothing is NOT MEASURED. Criticality is decided here and
// nowhere else; the coverage map (gates/coverage) is read from these fields.
//
// It is a leaf: it imports only the standard library, so the harness, the
// target package, the reports and the CLI may all read it.
package catalog
