// Package storetest is the conformance suite every store.Store passes (as
// slogtest is for slog handlers): run it from the implementation's tests
// with a Harness that opens the store on fresh or existing data.
//
// It imports engine/event and engine/store only.
package storetest
