package reports

import (
	"encoding/xml"
	"strings"
)

// JUnit XML in the shape CI systems read (Jenkins/GitLab/GitHub test reporters).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func (s *junitSuite) add(c junitCase) {
	s.Tests++
	switch {
	case c.Failure != nil:
		s.Failures++
	case c.Skipped != nil:
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

// JUnit renders junit.xml: one testsuite per gate with a testcase per check,
// a "scenarios" suite, and a "verdict" suite whose single case fails unless GO,
// so a CI test view shows the sign-off even when every check passed (e.g. a
// memory trend or an early stop). Warnings pass with a WARN line in system-out.
func JUnit(s *Summary) ([]byte, error) {
	root := junitSuites{Name: "creditgate sign-off"}
	for _, g := range s.GateDetails {
		suite := junitSuite{Name: GateKey(g.ID)}
		if g.Name == "" {
			suite.Name = g.ID
		}
		if len(g.Checks) == 0 {
			// A gate without checks still shows up, as what it is.
			suite.add(checkCase(g.ID, Check{Name: "gate " + g.ID, Status: g.Status, Detail: g.Detail}))
		}
		for _, c := range g.Checks {
			suite.add(checkCase(g.ID, c))
		}
		root.Suites = append(root.Suites, suite)
	}

	sc := junitSuite{Name: "scenarios"}
	for _, x := range s.Scenarios {
		c := junitCase{Name: x.Name, Classname: "scenarios", Time: fmtNum(float64(x.Duration))}
		switch {
		case x.Status == ScenarioSkipped:
			c.Skipped = &junitSkipped{Message: orDefault(x.Detail, "skipped")}
		case x.Status != ScenarioPassed || !x.InvariantsPassed:
			c.Failure = &junitFailure{Type: "scenario", Message: "scenario failed" + suffix(": ", x.Detail),
				Body: "invariants passed: " + boolWord(x.InvariantsPassed) + suffix("\nrepro: ", x.Repro)}
		}
		sc.add(c)
	}
	root.Suites = append(root.Suites, sc)

	v := junitSuite{Name: "verdict"}
	vc := junitCase{Name: "overall verdict " + s.OverallStatus, Classname: "verdict", Time: "0"}
	if s.OverallStatus != VerdictGo { // agrees with ExitCode: only GO is zero
		vc.Failure = &junitFailure{Type: "verdict", Message: s.OverallStatus + ": " + s.Recommendation, Body: strings.Join(s.VerdictReasons, "\n")}
	} else {
		vc.SystemOut = s.Recommendation + "\n" + strings.Join(s.VerdictReasons, "\n")
	}
	v.add(vc)
	root.Suites = append(root.Suites, v)

	for _, st := range root.Suites {
		root.Tests += st.Tests
		root.Failures += st.Failures
		root.Skipped += st.Skipped
	}
	out, err := xml.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(xml.Header), out...), '\n'), nil
}

func checkCase(gateID string, c Check) junitCase {
	jc := junitCase{Name: c.Name, Classname: "gate." + gateID, Time: "0"}
	mt := "measured " + orDefault(c.Measured, "?") + ", threshold " + orDefault(c.Threshold, "?")
	switch c.Status {
	case StatusFail:
		crit := ""
		if c.Critical {
			crit = "critical "
		}
		jc.Failure = &junitFailure{Type: crit + "check", Message: mt, Body: c.Detail + suffix("\nrepro: ", c.Repro)}
	case StatusSkip:
		jc.Skipped = &junitSkipped{Message: orDefault(c.Detail, "skipped")}
	case StatusWarn:
		jc.SystemOut = "WARN: " + mt + suffix("\n", c.Detail)
	default:
		jc.SystemOut = mt
	}
	return jc
}

func boolWord(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
