package pgstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/pgstore"
	"github.com/creditgate/creditgate/engine/pgstore/pgtest"
	"github.com/creditgate/creditgate/engine/store"
	"github.com/creditgate/creditgate/engine/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

func open(t *testing.T, url string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	srv := pgtest.Shared(t)
	storetest.Run(t, storetest.Harness{Fresh: func(t *testing.T) func() store.Store {
		url := srv.FreshDB(t)
		return func() store.Store { return open(t, url) }
	}})
}

func TestOpenRefusesADatabaseNewerThanTheBinary(t *testing.T) {
	srv := pgtest.Shared(t)
	url := srv.FreshDB(t)
	open(t, url).Close()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `INSERT INTO schema_version (version) VALUES ($1)`, pgstore.SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	_, err = pgstore.Open(context.Background(), url, pgstore.Options{})
	if !errors.Is(err, pgstore.ErrSchemaTooNew) {
		t.Fatalf("Open on a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenIsIdempotentOnAMigratedDatabase(t *testing.T) {
	srv := pgtest.Shared(t)
	url := srv.FreshDB(t)
	open(t, url).Close()
	s := open(t, url)
	defer s.Close()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n, v int
	if err := conn.QueryRow(context.Background(), `SELECT count(*), max(version) FROM schema_version`).Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if n != pgstore.SchemaVersion || v != pgstore.SchemaVersion {
		t.Fatalf("schema_version has %d rows up to %d, want %d", n, v, pgstore.SchemaVersion)
	}
}

func TestSessionsCommitSynchronously(t *testing.T) {
	srv := pgtest.Shared(t)
	url := srv.FreshDB(t)
	// A server default of off must not weaken the store's acknowledgement.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `ALTER DATABASE `+pgx.Identifier{conn.Config().Database}.Sanitize()+` SET synchronous_commit = off`); err != nil {
		t.Fatal(err)
	}
	s := open(t, url)
	defer s.Close()
	got, err := pgstore.SynchronousCommit(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if got != "on" {
		t.Fatalf("synchronous_commit in the store's sessions = %q, want on", got)
	}
}

// An old key is found by the unique index with its whole transaction
// (primary, then "<key>#1", …), so the engine never reloads to learn it.
func TestLookupKeysReturnsTheTransactionOfAKey(t *testing.T) {
	srv := pgtest.Shared(t)
	s := open(t, srv.FreshDB(t))
	defer s.Close()
	ctx := context.Background()
	var recs []store.Record
	add := func(key string, tx int) {
		seq := uint64(len(recs) + 1)
		ev := &event.Envelope{Seq: seq, EventID: fmt.Sprint("ev", seq), EventType: event.CreditConsumed, IdempotencyKey: key,
			Timestamp: time.Unix(1, 0).UTC(), SchemaVersion: event.SchemaVersion, Payload: []byte(`{}`), TxSize: tx}
		line, err := event.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, store.RecordOf(ev, line))
	}
	add("solo", 0)
	add("multi", 3)
	add("multi#1", 0)
	add("multi#2", 0)
	add("after", 0)
	tx, err := s.Begin(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-tx.Commit(recs); err != nil {
		t.Fatal(err)
	}
	got, err := s.LookupKeys(ctx, []string{"solo", "multi", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got["solo"]) != 1 || len(got["multi"]) != 3 {
		t.Fatalf("LookupKeys = %d keys (solo %d lines, multi %d), want solo 1 and multi 3", len(got), len(got["solo"]), len(got["multi"]))
	}
	for i, line := range got["multi"] {
		if !bytes.Equal(line, recs[1+i].Line) {
			t.Fatalf("multi line %d = %s, want %s", i, line, recs[1+i].Line)
		}
	}
}
