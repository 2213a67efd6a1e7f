//go:build tools

// Package engine pins the Pulumi CLI's module so that `go build` finds it in go.sum.
package engine

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
