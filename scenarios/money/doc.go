// Package money is the harness's one reading and writing of credit amounts.
// The API carries credits as JSON numbers with at most 3 decimals; the
// harness holds them as exact milli-credits in an int64 and never passes
// an amount through float64 (59.02 is not a float64, and 0.1+0.2 ≠ 0.3).
//
// It owns: ParseMilli (a JSON number literal → milli-credits, exactly, or
// an error), FormatMilli (milli-credits → the shortest exact literal),
// Credits (the same literal as a json.Number, for request bodies), and
// FromJSON (a value decoded with json.Decoder.UseNumber → milli-credits).
//
// It is the harness's own restatement, independent of the engine's money
// package (the harness must not check a bug against itself).
//
// It imports only the standard library (tests too): scenarios, the
// history, the load runner and gates/audit all lean on it.
package money
