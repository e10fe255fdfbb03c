// Package target owns booting and controlling the system under test: the
// backend the gates and scenarios talk to.
//
// A Target is one running backend reached over HTTP at BaseURL. The kinds,
// selected by Config.Kind (env CREDITGATE_TARGET), are:
//
//   - container (default): the repo's Dockerfile built into a fixed tag
//     (creditgate/creditd:dev, kept between runs) and booted with
//     testcontainers-go. On our machines dockerd runs with --bridge=none, so
//     the container uses host networking and binds 127.0.0.1 on a port the
//     harness picks; Network "bridge" is the ordinary mapped-port path for
//     machines with a default Docker.
//   - process: the creditd binary as a child process, for machines without
//     Docker.
//   - cluster: PostgreSQL 15 (initdb into a temp dir, a free loopback port)
//     and N creditd processes on it (CREDITD_STORE), behind a round-robin
//     proxy at BaseURL; Instances() reaches each one directly. PostgreSQL
//     is launched by internal/pglaunch, the neutral launcher the engine's
//     test helper (pgtest) uses too: the harness imports nothing of the
//     engine.
//   - exec: any backend started from a command line (CREDITGATE_EXEC, with
//     {port}, {data_dir} and {karma_url} placeholders; see KindExec), e.g. the user's own
//     FastAPI app or chaos/original. Same process control as process mode
//     (it is one implementation); the journal file only when named
//     (CREDITGATE_EXEC_JOURNAL). Ready is 200, or 503 "degraded" from
//     /api/health, else /api/credits/health (CREDITGATE_EXEC_HEALTH).
//   - url: an already running backend (e.g. the user's own). The harness only
//     has HTTP: control operations return ErrUnsupported and gates that need
//     them SKIP with the reason from Config.Supports.
//
// Invariants:
//   - The harness dials 127.0.0.1 only (url mode dials exactly the given URL).
//     testcontainers is pinned to 127.0.0.1 through a registered runtime
//     provider, because on a machine with /.dockerenv it would otherwise
//     resolve the Docker host to the default gateway.
//   - Kill, Stop and Start keep the data directory and the port: a restarted
//     backend recovers from the same journal at the same BaseURL.
//   - Nothing restarts the backend behind the harness's back: containers have
//     no restart policy, processes are not supervised.
//   - Start (and New) return only once GET /api/health answers 200 (exec:
//     its readiness path, see above).
//   - Kill and Stop signal the backend's whole process group.
//
// Use from a Ginkgo suite (register the cleanup before checking the error: a
// failed New can still hold a container or a data directory):
//
//	cfg := target.ConfigFromEnv()
//	if ok, why := cfg.Supports(target.CapCrash); !ok {
//		Skip(why) // before booting anything
//	}
//	cfg.Env = map[string]string{"CREDITD_FSYNC": "true"}
//	tg, err := target.New(ctx, cfg)
//	if tg != nil {
//		DeferCleanup(tg.Terminate)
//	}
//	Expect(err).NotTo(HaveOccurred())
//
// Container mode sets TESTCONTAINERS_RYUK_DISABLED=true and
// TESTCONTAINERS_PROVIDER in the process environment if they are unset, before
// the first testcontainers call (testcontainers reads them once per process).
//
// This package must not import engine/ nor, of this module, anything but
// chaos/lazyfs (the power-loss layer under a data directory), gates/catalog
// (the names of the capabilities) and the neutral helpers internal/freeport,
// internal/pglaunch and internal/repo: it works
// against any backend that speaks the HTTP API and honours the
// CREDITD_ADDR / CREDITD_JOURNAL environment.
package target
