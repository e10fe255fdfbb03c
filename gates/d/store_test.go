package d_test

import "github.com/creditgate/creditgate/gates/target"

// journalFileApplies reports whether the target keeps its events in a JSONL
// journal file. On the cluster target the store is PostgreSQL: the specs
// that damage, cut or fill the journal's file have nothing to act on, so
// they are not registered there (rather than skipped, which would make
// every cluster run CONDITIONAL for a check that cannot exist). The
// cluster's durability is checked by gate B's CL5 (kill -9 of an instance)
// and CL6 (PostgreSQL stopped under load) and gate D's CL-D specs; see
// docs/gates.md.
var journalFileApplies = target.ConfigFromEnv().Kind != target.KindCluster
