// Package eventtest holds test helpers over the record format that the
// engine's tests and its HTTP layer's tests share: reading a journal file
// back as envelopes.
//
// It imports only the standard library and engine/event.
package eventtest
