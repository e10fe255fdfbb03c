//go:build mutant

package karma

// DefaultFallback is 0.6 instead of the original system's 0.5 for an agent
// KARMA cannot rate.
const DefaultFallback = 0.6
