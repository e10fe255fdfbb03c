package verify

import (
	"testing"

	"github.com/creditgate/creditgate/gates/catalog"
)

// Every foreign-backend case names the catalog check that must catch its
// defect (gates/mutants tests the same of every seeded engine bug).
func TestEveryForeignCaseNamesACatalogCheck(t *testing.T) {
	for _, c := range foreignCases {
		if _, ok := catalog.Lookup(c.check); c.check != "" && !ok {
			t.Errorf("foreign case %s names %q, which the catalog does not declare", c.name(), c.check)
		}
	}
}
