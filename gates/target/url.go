package target

import (
	"context"
	"strings"
)

// urlTarget is a backend the harness did not boot: HTTP access only.
type urlTarget struct {
	cfg     Config
	baseURL string
}

func newURL(ctx context.Context, cfg Config) (Target, error) {
	u := &urlTarget{cfg: cfg, baseURL: strings.TrimRight(cfg.URL, "/")}
	// Fail at boot with a clear message rather than in the first gate.
	if err := waitHealthy(ctx, u.baseURL, cfg.Token, cfg.StartTimeout, nil); err != nil {
		return nil, err
	}
	return u, nil
}

func (u *urlTarget) Kind() Kind                           { return KindURL }
func (u *urlTarget) BaseURL() string                      { return u.baseURL }
func (u *urlTarget) Token() string                        { return u.cfg.Token }
func (u *urlTarget) JournalPath() string                  { return "" }
func (u *urlTarget) PID() int                             { return 0 }
func (u *urlTarget) Kill(context.Context) error           { return ErrUnsupported }
func (u *urlTarget) Stop(context.Context) error           { return ErrUnsupported }
func (u *urlTarget) Start(context.Context) error          { return ErrUnsupported }
func (u *urlTarget) Logs(context.Context) (string, error) { return "", ErrUnsupported }
func (u *urlTarget) Terminate(context.Context) error      { return nil }
