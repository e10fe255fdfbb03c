// Package httpapi translates HTTP to engine calls and back: it decodes and
// validates requests (size limits, unknown fields, exact amounts; every
// mutation is Content-Type application/json, also with an empty body;
// bodies are unambiguous JSON — valid UTF-8, no repeated or case-variant
// members — framed by Content-Length: a chunked request is refused and its
// connection closed; idempotency keys are of engine.KeyAlphabet; all
// checked before the engine runs), resolves
// the acting principal (bearer tokens with roles, or the body's actor in dev
// mode), calls the engine, and maps results to statuses through one table.
//
// It never touches the journal or a projection directly, and never answers
// 500 for bad input. It imports engine and its value packages; it must not
// import chaos/ or cmd/.
package httpapi
