package pgstore_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/creditgate/creditgate/engine/pgstore/pgtest"
)

// pgbenchScript is what a consume costs on plain PostgreSQL: one guarded
// UPDATE of a balance row plus one INSERT of a history row, committed.
const pgbenchScript = `\set aid random(1, 64)
BEGIN;
UPDATE acct SET balance = balance - 1 WHERE id = :aid AND balance >= 1;
INSERT INTO hist (aid, amount) VALUES (:aid, 1);
END;
`

var tpsRE = regexp.MustCompile(`tps = ([0-9.]+)`)

// BenchmarkPgbenchBaseline runs pgbench with that script on a server like
// the one the store benchmarks use, at 1, 16 and 64 clients (3 s each,
// PGBENCH_SECONDS to change; 256 clients spend seconds only connecting on a
// small machine). Run it with -benchtime=1x; scripts/bench-store.sh sets it
// beside the store benchmarks. It is the database's own cost of a consume.
func BenchmarkPgbenchBaseline(b *testing.B) {
	srv := pgtest.Shared(b)
	bin := filepath.Join(pgtest.BinDir, "pgbench")
	if _, err := os.Stat(bin); err != nil {
		b.Skip("pgbench not installed")
	}
	url := srv.FreshDB(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE acct (id int PRIMARY KEY, balance bigint NOT NULL)`,
		`INSERT INTO acct SELECT g, 1000000000 FROM generate_series(1, 64) g`,
		`CREATE TABLE hist (id bigserial PRIMARY KEY, aid int NOT NULL, amount bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	conn.Close(ctx)
	script := filepath.Join(b.TempDir(), "consume.sql")
	if err := os.WriteFile(script, []byte(pgbenchScript), 0o644); err != nil {
		b.Fatal(err)
	}
	db := url[len(url)-len(filepath.Base(url)):]
	if i := len(db) - len("?sslmode=disable"); i > 0 && db[i:] == "?sslmode=disable" {
		db = db[:i]
	}
	secs := "3"
	if v := os.Getenv("PGBENCH_SECONDS"); v != "" {
		secs = v
	}
	for _, c := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", c), func(b *testing.B) {
			out, err := exec.Command(bin, "-n", "-f", script, "-c", strconv.Itoa(c), "-j", "2", "-T", secs,
				"-h", "127.0.0.1", "-p", strconv.Itoa(srv.Port), "-U", "postgres", db).CombinedOutput()
			if err != nil {
				b.Fatalf("pgbench: %v\n%s", err, out)
			}
			m := tpsRE.FindSubmatch(out)
			if m == nil {
				b.Fatalf("no tps in pgbench output:\n%s", out)
			}
			tps, _ := strconv.ParseFloat(string(m[1]), 64)
			b.ReportMetric(tps, "tps")
		})
	}
}
