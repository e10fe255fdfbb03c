// Package reports owns the sign-off report of a creditgate run: the data model
// saved as summary.json, the verdict rules (SPEC §8) as a pure function, the
// renderers (junit.xml, report.md, a self-contained report.html with inline SVG
// plots), the import of Ginkgo JSON reports, and the comparison of two runs.
//
// Files in, files out: everything here works on a Summary value or on files
// already written; nothing measures, boots or attacks anything.
//
// Invariants:
//   - The verdict is a function of the saved data only (Decide); Finalize
//     recomputes it on every write and re-render, so a report never shows a
//     verdict its own numbers do not support.
//   - report.html loads nothing: no scripts, no external stylesheets, fonts or
//     images; every plot is inline SVG drawn by this package; all text is
//     escaped.
//   - A plot without data renders an explicit "no data" placeholder.
//
// It must not import engine/ (or any other package of this module): reports
// are about a target, which may be someone else's backend, and must render
// from files alone.
package reports
