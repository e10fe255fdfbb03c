//go:build tools

// Package tools pins the Ginkgo CLI the Makefile runs with `go run`, so
// `go mod tidy` keeps its dependencies.
package tools

import _ "github.com/onsi/ginkgo/v2/ginkgo"
