//go:build mutant

// Seeded bug h13-event-id-uuid-v7 (blind hunt 13, in our engine): event ids
// are time-ordered version 7 UUIDs. Breaks SPEC §2 ("event_id (UUID v4)").
// Nothing read an event id's form, only its uniqueness; A6 now wants a v4.
package engine

import "github.com/google/uuid"

func newEventID() string { return uuid.Must(uuid.NewV7()).String() }
