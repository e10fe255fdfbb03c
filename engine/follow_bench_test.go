package engine_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/pgstore/pgtest"
)

// BenchmarkStoreConsume compares consumes through the engine on the JSONL
// journal (group commit, fdatasync on) and on PostgreSQL (group commit: the
// commands queued while a transaction was in flight share the next one;
// synchronous_commit on, fsync on), with 1, 16, 64
// and 256 concurrent appenders; "postgres-3" spreads the appenders over
// three engines on one database (three instances).
func BenchmarkStoreConsume(b *testing.B) {
	kinds := []struct {
		name      string
		instances int
		open      func(b *testing.B) func() *engine.Engine
	}{
		{"jsonl", 1, func(b *testing.B) func() *engine.Engine {
			cfg := testConfig(b, journalPath(b))
			cfg.Journal.NoSync = false
			return func() *engine.Engine { return openEngine(b, cfg) }
		}},
		{"postgres", 1, nil},
		{"postgres-3", 3, nil},
	}
	for _, k := range kinds {
		for _, conc := range []int{1, 16, 64, 256} {
			b.Run(fmt.Sprintf("store=%s/appenders=%d", k.name, conc), func(b *testing.B) {
				var open func() *engine.Engine
				if k.open != nil {
					open = k.open(b)
				} else {
					url := pgtest.Shared(b).FreshDB(b)
					open = func() *engine.Engine { return openPG(b, url) }
				}
				var es []*engine.Engine
				for range k.instances {
					e := open()
					defer e.Close()
					es = append(es, e)
				}
				const agents = 64
				for i := range agents {
					id := fmt.Sprintf("a%d", i)
					mustCreate(b, es[0], id, 1)
					for range 4 {
						if _, err := es[0].Add(context.Background(), as("op", ""), engine.CreditInput{AgentID: id, AmountMilli: credits(499), Reason: "fund"}); err != nil {
							b.Fatal(err)
						}
					}
				}
				var n atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				for w := range conc {
					wg.Add(1)
					go func() {
						defer wg.Done()
						e := es[w%len(es)]
						in := engine.CreditInput{AgentID: fmt.Sprintf("a%d", w%agents), AmountMilli: 1, Reason: "bench"}
						for n.Add(1) <= int64(b.N) {
							if _, err := e.Consume(context.Background(), as("svc", ""), in); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
			})
		}
	}
}
