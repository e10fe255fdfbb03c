//go:build mutant

// Seeded bug karma-fallback-0.6 (gate B, check B11): the KARMA fallback CI
// is 0.6 instead of 0.5.

package karma

// DefaultFallback is 0.6 instead of the original system's 0.5 for an agent
// KARMA cannot rate.
const DefaultFallback = 0.6
