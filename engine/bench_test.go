package engine_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
)

// writeConsumeJournal writes a realistic journal of n events: agents
// registered and funded, then credit.consumed spread over them, half of them
// with a client idempotency key, all with KARMA metadata. Lines are made with
// event.Encode directly (no engine), so writing is fast.
func writeConsumeJournal(tb testing.TB, path string, n, agents int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	balances := make([]int64, agents)
	score := 0.5
	seq := uint64(0)
	emit := func(typ event.Type, payload any, key string, meta *event.Metadata) {
		seq++
		p, err := json.Marshal(payload)
		if err != nil {
			tb.Fatal(err)
		}
		id := fmt.Sprintf("%08x-7d1e-4c2b-9a51-%012x", uint32(seq*2654435761), seq)
		ev := &event.Envelope{Seq: seq, EventID: id, EventType: typ, Timestamp: t0.Add(time.Duration(seq) * time.Millisecond),
			ActorID: "svc-loadgen", CorrelationID: id, SchemaVersion: event.SchemaVersion, IdempotencyKey: key,
			Payload: p, Metadata: meta}
		line, err := event.Encode(ev)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(line); err != nil {
			tb.Fatal(err)
		}
	}
	for a := 0; a < agents && int(seq) < n; a++ {
		id := fmt.Sprintf("agent-%04d", a)
		emit(event.AgentRegistered, event.Agent{AgentID: id, SkillLevel: 1}, fmt.Sprintf("srv-reg-%d", a), nil)
		balances[a] = 1_000_000_000_000
		emit(event.CreditAllocated, event.Credit{AgentID: id, AmountMilli: balances[a], BalanceAfterMilli: balances[a], Reason: "fund"},
			fmt.Sprintf("srv-fund-%d", a), nil)
	}
	for i := 0; int(seq) < n; i++ {
		a := i % agents
		amount := int64(500 + (i*7919)%4500) // 0.5 .. 5 credits
		balances[a] -= amount
		meta := &event.Metadata{KarmaSource: "live", KarmaScore: &score}
		key := fmt.Sprintf("srv-%d", i)
		if i%2 == 0 {
			key = fmt.Sprintf("client-%d", i)
			meta.RequestHash = fmt.Sprintf("%032x", i)
		}
		emit(event.CreditConsumed, event.Credit{AgentID: fmt.Sprintf("agent-%04d", a), AmountMilli: amount,
			BalanceAfterMilli: balances[a], Reason: "llm_call", MissionID: fmt.Sprintf("m-%d", i%97)}, key, meta)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkReplay1M times engine.Open (recovery scan, replay, projections,
// anomaly fold, key index) of a 1M-event journal of consumes over 1000
// agents, and the heap the open engine keeps per stored event.
func BenchmarkReplay1M(b *testing.B) {
	const events, agents = 1_000_000, 1000
	path := journalPath(b)
	writeConsumeJournal(b, path, events, agents)
	st, _ := os.Stat(path)
	cfg := testConfig(b, path)
	b.ResetTimer()
	var heapPerEvent float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		before := heapAfterGC()
		b.StartTimer()
		e, err := engine.Open(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if got := e.Stats().ReplayEvents; got != events {
			b.Fatalf("replayed %d events, want %d", got, events)
		}
		after := heapAfterGC()
		heapPerEvent = float64(int64(after)-int64(before)) / events
		runtime.KeepAlive(e)
		if err := e.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(heapPerEvent, "heap-B/event")
	b.ReportMetric(float64(st.Size())/events, "file-B/event")
}

// BenchmarkConsume measures consumes through the engine with fdatasync on
// (group commit) at parallelism 1, 16 and 64 goroutines per GOMAXPROCS.
func BenchmarkConsume(b *testing.B) {
	for _, par := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("parallelism=%d", par), func(b *testing.B) {
			cfg := testConfig(b, journalPath(b))
			cfg.Journal.NoSync = false
			e := openEngine(b, cfg)
			defer e.Close()
			const agents = 64
			for i := 0; i < agents; i++ {
				id := fmt.Sprintf("a%d", i)
				mustCreate(b, e, id, 1)
				// Fund below the approval threshold, repeatedly: enough for b.N consumes of 0.001.
				for k := 0; k < 4; k++ {
					if _, err := e.Add(context.Background(), as("op", ""), engine.CreditInput{AgentID: id, AmountMilli: credits(499), Reason: "fund"}); err != nil {
						b.Fatal(err)
					}
				}
			}
			var next atomic.Int64
			b.SetParallelism(par)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				agent := fmt.Sprintf("a%d", next.Add(1)%agents)
				in := engine.CreditInput{AgentID: agent, AmountMilli: 1, Reason: "bench"}
				for pb.Next() {
					if _, err := e.Consume(context.Background(), as("svc", ""), in); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}
