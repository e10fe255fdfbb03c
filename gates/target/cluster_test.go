package target

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditgate/creditgate/internal/pglaunch"
)

func clusterCall(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func TestClusterTargetSpreadsRequestsAndSurvivesInstanceAndDatabaseFaults(t *testing.T) {
	if err := pglaunch.Installed(); err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("cluster boot skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tg, err := New(ctx, Config{Kind: KindCluster, Binary: backendBinary(t), Logger: testLogger(t), ClusterSize: 3})
	if tg != nil {
		defer tg.Terminate(context.Background())
	}
	if err != nil {
		t.Fatal(err)
	}
	c := tg.(Cluster)
	defer func() { // before Terminate removes PostgreSQL's log
		if t.Failed() {
			logs, _ := tg.Logs(context.Background())
			t.Logf("backend logs:\n%s", logs)
		}
	}()
	if tg.JournalPath() != "" || len(c.Instances()) != 3 {
		t.Fatalf("journal %q, %d instances", tg.JournalPath(), len(c.Instances()))
	}
	if st, _ := clusterCall(t, "POST", tg.BaseURL()+"/api/credits/agents", `{"agent_id":"a1","skill_level":1,"actor_id":"t"}`); st != 201 && st != 200 {
		t.Fatalf("create agent through the proxy: %d", st)
	}
	balances := func() []any {
		var out []any
		for _, u := range c.Instances() {
			st, m := clusterCall(t, "GET", u+"/api/credits/balance/a1", "")
			if st != 200 {
				t.Fatalf("balance on %s: %d %v", u, st, m)
			}
			out = append(out, m["balance"])
		}
		return out
	}
	if got := fmt.Sprint(balances()); got != "[100 100 100]" {
		t.Fatalf("every instance reads the write made through another: %s", got)
	}
	// One instance down: the proxy routes around it.
	if err := c.KillInstance(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if st, _ := clusterCall(t, "POST", tg.BaseURL()+"/api/credits/consume", fmt.Sprintf(`{"agent_id":"a1","amount":1,"reason":"r%d","actor_id":"t"}`, i)); st != 200 && st != 201 {
			t.Fatalf("consume %d with instance 1 down: %d", i, st)
		}
	}
	if err := c.StartInstance(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(balances()); got != "[94 94 94]" {
		t.Fatalf("after instance 1 restarted: %s", got)
	}
	// Database down: instances answer 503, never 500, and recover alone.
	if err := c.StopDatabase(ctx, "immediate"); err != nil {
		t.Fatal(err)
	}
	for _, u := range c.Instances() {
		if st, _ := clusterCall(t, "POST", u+"/api/credits/consume", `{"agent_id":"a1","amount":1,"reason":"down","actor_id":"t"}`); st != 503 {
			t.Fatalf("consume on %s with the database down: %d, want 503", u, st)
		}
	}
	if err := c.StartDatabase(ctx); err != nil {
		t.Fatal(err)
	}
	// Each instance finds the database back on its own (its follower probes
	// every FollowInterval, and its pooled connections to the old server
	// fail once each), so each is waited for: one answering says nothing
	// about the others.
	for i, u := range c.Instances() {
		deadline := time.Now().Add(20 * time.Second)
		for {
			st, _ := clusterCall(t, "GET", u+"/api/credits/balance/a1", "")
			if st == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("instance %d still answers %d 20s after the database came back", i, st)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if got := fmt.Sprint(balances()); got != "[94 94 94]" {
		t.Fatalf("after the database restart: %s", got)
	}
	exerciseClusterControl(t, tg)
}

// exerciseClusterControl: Kill takes every instance down, Start brings them
// back on the same URLs over the same database.
func exerciseClusterControl(t *testing.T, tg Target) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := tg.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if tg.PID() != 0 {
		t.Fatal("PID after Kill")
	}
	if err := tg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if st, m := clusterCall(t, "GET", tg.BaseURL()+"/api/credits/balance/a1", ""); st != 200 || fmt.Sprint(m["balance"]) != "94" {
		t.Fatalf("after a full restart: %d %v", st, m)
	}
	if err := tg.Stop(ctx); err != nil {
		t.Fatalf("graceful stop of every instance: %v", err)
	}
}

// StartExtra starts one more creditd on the database with the instances'
// environment plus overrides: the same settings join and serve, another
// money setting is refused with the instance's log tail.
func TestClusterStartExtraJoinsWithTheSameSettingsAndReportsARefusal(t *testing.T) {
	if err := pglaunch.Installed(); err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("cluster boot skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tg, err := New(ctx, Config{Kind: KindCluster, Binary: backendBinary(t), Logger: testLogger(t), ClusterSize: 1})
	if tg != nil {
		defer tg.Terminate(context.Background())
	}
	if err != nil {
		t.Fatal(err)
	}
	c := tg.(Cluster)
	same, err := c.StartExtra(ctx, nil)
	if same != nil {
		defer same.Terminate(context.Background())
	}
	if err != nil {
		t.Fatalf("an extra instance with the same settings: %v", err)
	}
	if st, _ := clusterCall(t, "GET", same.BaseURL()+"/api/health", ""); st != 200 {
		t.Fatalf("the extra instance answers /api/health %d", st)
	}
	other, err := c.StartExtra(ctx, map[string]string{"CREDITD_APPROVAL_THRESHOLD": "400"})
	if other != nil {
		defer other.Terminate(context.Background())
	}
	if err == nil || !strings.Contains(err.Error(), "approval.threshold_milli") {
		t.Fatalf("an extra instance with another threshold: err %v, want a refusal naming approval.threshold_milli", err)
	}
}
