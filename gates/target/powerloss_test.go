package target

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestProcessPowerCutKeepsAcknowledgedWritesAndDropsUnsyncedBytes boots a
// process target through the power-loss layer, acknowledges a write,
// leaves unsynced bytes in a file of the data directory, and cuts the
// power: the acknowledged event survives, the unsynced bytes do not, and
// the backend is healthy again on the same URL.
func TestProcessPowerCutKeepsAcknowledgedWritesAndDropsUnsyncedBytes(t *testing.T) {
	bin := backendBinary(t)
	cfg := Config{Kind: KindProcess, Binary: bin, PowerLoss: PowerLossOn, Logger: testLogger(t)}
	if ok, why := cfg.Supports(CapPowerLoss); !ok {
		t.Skip(why)
	}
	tg, err := New(context.Background(), cfg)
	if tg != nil {
		t.Cleanup(func() {
			if err := tg.Terminate(context.Background()); err != nil {
				t.Errorf("Terminate: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := http.Post(tg.BaseURL()+"/api/credits/agents", "application/json",
		bytes.NewReader([]byte(`{"agent_id":"power-cut-agent","skill_level":1.0,"actor_id":"t"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("create agent: %d", resp.StatusCode)
	}
	// A file the backend does not know, written and never synced.
	scratch := strings.TrimSuffix(tg.JournalPath(), JournalName) + "scratch"
	if err := os.WriteFile(scratch, []byte("never synced"), 0o644); err != nil {
		t.Fatal(err)
	}
	pc, ok := tg.(PowerCutter)
	if !ok {
		t.Fatalf("%T does not implement PowerCutter", tg)
	}
	rep, err := pc.PowerCut(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.BytesDropped < int64(len("never synced")) || rep.FilesRemoved < 1 {
		t.Fatalf("report %+v: the unsynced scratch file must be dropped", rep)
	}
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		t.Fatalf("scratch file survived the power cut: %v", err)
	}
	if !healthy(t, tg) {
		t.Fatal("backend not healthy after the power cut")
	}
	j, err := os.ReadFile(tg.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(j, []byte("power-cut-agent")) {
		t.Fatalf("the acknowledged agent creation was lost by the power cut; journal:\n%s", j)
	}
}

func TestPowerLossCapabilityNamesTheReasonToSkip(t *testing.T) {
	if ok, why := (Config{Kind: KindURL, URL: "http://127.0.0.1:1"}).Supports(CapPowerLoss); ok || !strings.Contains(why, "url") {
		t.Fatalf("url mode: %v %q", ok, why)
	}
	if ok, why := (Config{Kind: KindProcess, PowerLoss: PowerLossOff}).Supports(CapPowerLoss); ok || !strings.Contains(why, "CREDITGATE_POWERLOSS=false") {
		t.Fatalf("disabled: %v %q", ok, why)
	}
}
