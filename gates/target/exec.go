package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// KindExec is any backend started from a command line (CREDITGATE_EXEC),
// e.g. a FastAPI app under uvicorn or chaos/original's cmd/original-backend.
//
// The command is split into words like a shell splits them ('single',
// "double" quotes and backslash escapes) and then run directly, not by a
// shell: no variables, globs, pipes or redirections. A command that needs a
// shell says so: CREDITGATE_EXEC="sh -c 'cd /app && exec uvicorn app:app
// --port {port}'". Placeholders, replaced in every word after splitting (so
// a directory with spaces stays one word): {port} is a free loopback port
// the harness picked (kept across restarts), {data_dir} the data directory
// (a new temporary one, or CREDITGATE_EXEC_DATA_DIR), {karma_url} the base
// URL of the harness's KARMA stub (Config.KarmaURL; "" when the harness
// runs none) — a command that names it declares the backend takes its
// KARMA from there, so the KARMA checks run against it. The command runs with
// {data_dir} as its working directory, in its own process group, with the
// harness's environment minus CREDITD_* plus Config.Env, CREDITD_ADDR,
// CREDITD_JOURNAL, PORT, CREDITGATE_PORT and CREDITGATE_DATA_DIR.
//
// Kill SIGKILLs the process group, Stop SIGTERMs it and waits
// (StopTimeout), Start runs the same command again and waits until the
// readiness path answers.
const KindExec Kind = "exec"

const (
	execDefaultHealth  = "/api/health"
	execFallbackHealth = "/api/credits/health"
)

// execPlaceholder matches anything that looks like a placeholder, so a typo
// ({data-dir}, {PORT}) is refused rather than passed on literally.
var execPlaceholder = regexp.MustCompile(`\{[A-Za-z_-]+\}`)

// execKarmaPlaceholder stands for the KARMA stub's base URL in an exec
// command line.
const execKarmaPlaceholder = "{karma_url}"

// ExecTakesKarma reports whether the exec command names {karma_url}: the
// backend then calls the harness's KARMA stub, which the harness must
// start before the target (Config.KarmaURL).
func (c Config) ExecTakesKarma() bool {
	return c.Kind == KindExec && strings.Contains(c.Exec, execKarmaPlaceholder)
}

// ExecSettingsRules is the CREDITGATE_EXEC_SETTINGS word for every rule
// setting.
const ExecSettingsRules = "rules"

// execSettingName is how a rule setting is named in CREDITGATE_EXEC_SETTINGS.
var execSettingName = regexp.MustCompile(`^CREDITD_[A-Z0-9_]+$`)

// ExecReadsSettings reports whether the exec backend reads every one of
// names (CREDITD_* rule settings) from its environment, as declared in
// CREDITGATE_EXEC_SETTINGS, and if not which it does not.
func (c Config) ExecReadsSettings(names []string) (bool, []string) {
	if c.Kind != KindExec {
		return false, names
	}
	var missing []string
	for _, n := range names {
		if !slices.Contains(c.ExecSettings, ExecSettingsRules) && !slices.Contains(c.ExecSettings, n) {
			missing = append(missing, n)
		}
	}
	return len(missing) == 0, missing
}

// validateExec reports an exec configuration New would refuse.
func validateExec(c Config) error {
	words, err := splitWords(c.Exec)
	if err != nil {
		return err
	}
	for _, w := range words {
		for _, ph := range execPlaceholder.FindAllString(w, -1) {
			if ph != "{port}" && ph != "{data_dir}" && ph != execKarmaPlaceholder {
				return fmt.Errorf("target: CREDITGATE_EXEC: unknown placeholder %s (known: {port}, {data_dir}, %s)", ph, execKarmaPlaceholder)
			}
		}
	}
	if j := c.ExecJournal; j != "" {
		clean := filepath.Clean(j)
		if filepath.IsAbs(j) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("target: CREDITGATE_EXEC_JOURNAL %q must be a file path relative to {data_dir}, inside it (e.g. journal.jsonl)", j)
		}
	}
	for _, n := range c.ExecSettings {
		if n != ExecSettingsRules && !execSettingName.MatchString(n) {
			return fmt.Errorf("target: CREDITGATE_EXEC_SETTINGS: %q is neither %q nor a setting's variable name (CREDITD_APPROVAL_TIMEOUT_HIGH, …; docs/own-backend.md lists them)", n, ExecSettingsRules)
		}
	}
	if h := c.ExecHealth; h != "" && !strings.HasPrefix(h, "/") {
		return fmt.Errorf("target: CREDITGATE_EXEC_HEALTH %q must be a path starting with / (e.g. /api/health)", h)
	}
	if c.PowerLoss == PowerLossOn && c.ExecJournal == "" {
		return errors.New("target: exec mode on the power-loss layer needs CREDITGATE_EXEC_JOURNAL (the power-loss checks read the journal the cut damaged)")
	}
	return nil
}

// execSupports is Config.Supports for KindExec: process control yes, the
// journal file only when named, nothing the harness cannot know about the
// backend.
func execSupports(c Config, cap Capability) (bool, string) {
	switch cap {
	case CapCrash, CapRestart, CapPID, CapLogs:
		return true, ""
	case CapJournalFile:
		if c.ExecJournal != "" {
			return true, ""
		}
		return false, "target exec: the harness does not know which file is the backend's journal; set CREDITGATE_EXEC_JOURNAL to the journal file path inside {data_dir} (e.g. journal.jsonl)"
	case CapPowerLoss:
		if c.ExecJournal == "" {
			return false, "target exec: power-loss checks read the journal the cut damaged; set CREDITGATE_EXEC_JOURNAL to the journal file path inside {data_dir} (and the backend must write it under {data_dir})"
		}
		if ok, why := powerLossSupport(c); !ok {
			return false, "target exec: " + why
		}
		return true, ""
	case CapCluster:
		return false, "target exec: single-instance control and database faults need CREDITGATE_TARGET=cluster"
	}
	return false, fmt.Sprintf("target exec: %q is not available for a backend started from a command line: the harness cannot control or observe that part of it (use CREDITGATE_TARGET=process or container for creditd)", cap)
}

func newExec(ctx context.Context, cfg Config) (Target, error) {
	words, err := splitWords(cfg.Exec)
	if err != nil {
		return nil, err
	}
	// Resolved now, against the harness's working directory and PATH: the
	// command runs in {data_dir}, where "./server" would mean something
	// else. Before anything is created, so a typo leaves nothing behind.
	var program string
	if !strings.Contains(words[0], "{") {
		if program, err = resolveProgram(words[0]); err != nil {
			return nil, err
		}
	}
	p, err := newProcessTarget(cfg, KindExec, ".backend.log")
	if err != nil {
		return nil, err
	}
	if cfg.PowerLoss == PowerLossOn {
		if p.layer, err = mountLayer(p.dataDir, cfg, false); err != nil {
			return p, err
		}
		p.work = p.layer.mnt
	}
	argv := execArgv(words, p.port, p.work, cfg.KarmaURL)
	if p.binary = program; p.binary == "" {
		if p.binary, err = resolveProgram(argv[0]); err != nil {
			return p, err
		}
	}
	journal := filepath.Join(p.work, JournalName)
	if cfg.ExecJournal != "" {
		p.journal = filepath.Join(p.work, filepath.Clean(cfg.ExecJournal))
		journal = p.journal
	}
	env := execEnv(cfg, p.addr, journal, p.port, p.work)
	p.command = func() *exec.Cmd {
		cmd := exec.Command(p.binary, argv[1:]...)
		cmd.Env = env
		cmd.Dir = p.dataDir // never the layer's mount: see creditdCommand
		return cmd
	}
	health := &execHealth{path: cfg.ExecHealth, fixed: cfg.ExecHealth != ""}
	p.ready = func(ctx context.Context, alive func(context.Context) error) error {
		probe := func(ctx context.Context) error { return health.probe(ctx, p) }
		err := waitReady(ctx, p.baseURL+" readiness ("+health.describe()+")", cfg.StartTimeout, alive, probe)
		if err != nil && alive(ctx) == nil { // alive's error already carries the log tail
			err = fmt.Errorf("%w\nbackend command: %q\nbackend log tail (%s):\n%s", err, argv, p.logPath, lastLines(p.logs.String(), 20))
		}
		return err
	}
	p.logger.Info("exec target", "argv", argv, "data_dir", p.work, "journal", p.journal)
	if err := p.Start(ctx); err != nil {
		return p, err
	}
	return p, nil
}

// execArgv replaces the placeholders in every word.
func execArgv(words []string, port int, dataDir, karmaURL string) []string {
	r := strings.NewReplacer("{port}", strconv.Itoa(port), "{data_dir}", dataDir, execKarmaPlaceholder, karmaURL)
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = r.Replace(w)
	}
	return out
}

// resolveProgram makes the command's program independent of the working
// directory it will run in.
func resolveProgram(name string) (string, error) {
	if strings.Contains(name, "/") {
		abs, err := filepath.Abs(name)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("target: CREDITGATE_EXEC program: %w", err)
		}
		return abs, nil
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("target: CREDITGATE_EXEC program %q: %w", name, err)
	}
	return filepath.Abs(path)
}

// execEnv is the harness's environment (a foreign backend may need PATH,
// a virtualenv, PYTHONPATH) without CREDITD_* (a developer's shell setting
// must not change what is tested), plus Config.Env and the target's own.
func execEnv(cfg Config, addr, journal string, port int, dataDir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CREDITD_") {
			env = append(env, kv)
		}
	}
	own := backendEnv(cfg, addr, journal)
	own["PORT"] = strconv.Itoa(port)
	own["CREDITGATE_PORT"] = strconv.Itoa(port)
	own["CREDITGATE_DATA_DIR"] = dataDir
	keys := make([]string, 0, len(own))
	for k := range own {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+own[k])
	}
	return env
}

// execHealth is the readiness probe of an exec target. Without a configured
// path it tries /api/health and, when that is 404, /api/credits/health (the
// original's only health route), and keeps the one that answered.
type execHealth struct {
	path  string
	fixed bool
}

func (h *execHealth) describe() string {
	switch {
	case h.fixed:
		return "GET " + h.path
	case h.path != "":
		return "GET " + h.path + ", found by fallback"
	}
	return "GET " + execDefaultHealth + ", else " + execFallbackHealth
}

// probe is nil when the backend is ready: 200, or 503 with status
// "degraded" — up and serving, reporting damage it found (a torn journal),
// which is for the gates to judge, not a reason to wait forever.
func (h *execHealth) probe(ctx context.Context, p *processTarget) error {
	path := h.path
	if path == "" {
		path = execDefaultHealth
	}
	status, body, err := getStatus(ctx, p.baseURL+path, p.cfg.Token)
	if err != nil {
		return err
	}
	if status == http.StatusNotFound && !h.fixed && path == execDefaultHealth {
		s2, b2, err := getStatus(ctx, p.baseURL+execFallbackHealth, p.cfg.Token)
		if err == nil && s2 != http.StatusNotFound {
			h.path, path, status, body = execFallbackHealth, execFallbackHealth, s2, b2
		}
	}
	if status == http.StatusOK {
		return nil
	}
	var v struct {
		Status string `json:"status"`
	}
	if status == http.StatusServiceUnavailable && json.Unmarshal(body, &v) == nil && v.Status == "degraded" {
		p.logger.Warn("backend is up but reports itself degraded", "path", path, "body", string(body))
		return nil
	}
	if len(body) > 300 {
		body = body[:300]
	}
	return fmt.Errorf("GET %s: status %d: %s", path, status, body)
}

// splitWords splits a command line into words: blanks separate words,
// 'single quotes' keep everything literally, "double quotes" keep
// everything but \" \\ \$ \` escapes, a backslash outside quotes escapes
// the next character. What only a shell could do (variables, command
// substitution, pipes, redirections, ;, &, globbing ~) is refused with the
// remedy, never passed on literally.
func splitWords(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("target: exec mode needs a command line (CREDITGATE_EXEC), e.g. CREDITGATE_EXEC='uvicorn app:app --port {port}'")
	}
	needShell := func(i int, c rune) error {
		return fmt.Errorf("target: CREDITGATE_EXEC: %q at offset %d needs a shell, but the command is split into words and run directly; quote it, or run a shell yourself: sh -c '...'", c, i)
	}
	var words []string
	var cur strings.Builder
	inWord := false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j == len(rs) {
				return nil, fmt.Errorf("target: CREDITGATE_EXEC: unterminated ' quote at offset %d", i)
			}
			cur.WriteString(string(rs[i+1 : j]))
			inWord, i = true, j
		case c == '"':
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				switch rs[j] {
				case '\\':
					if j+1 < len(rs) && strings.ContainsRune("\"\\$`", rs[j+1]) {
						j++
					}
				case '$', '`':
					return nil, needShell(j, rs[j])
				}
				cur.WriteRune(rs[j])
			}
			if j == len(rs) {
				return nil, fmt.Errorf("target: CREDITGATE_EXEC: unterminated \" quote at offset %d", i)
			}
			inWord, i = true, j
		case c == '\\':
			if i+1 == len(rs) {
				return nil, errors.New("target: CREDITGATE_EXEC: a trailing backslash escapes nothing")
			}
			i++
			cur.WriteRune(rs[i])
			inWord = true
		case strings.ContainsRune("|&;<>()$`", c), c == '~' && !inWord:
			return nil, needShell(i, c)
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 || words[0] == "" {
		return nil, errors.New("target: CREDITGATE_EXEC: the command line has no program")
	}
	return words, nil
}
