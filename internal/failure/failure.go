// Package failure classifies errors by what the person or program that
// ran promobot can do about them: the answer is no, the request is wrong,
// the thing asked for does not exist, or the outside system it needs could
// not answer and a retry may help.
//
// A package marks an error where it knows its kind (an unknown model is
// not found, a storage timeout is unavailable), or gives its error type a
// FailureKind method (see Classified), and the command line maps the kind
// to its exit code in one place. An error nobody marked has kind Unknown.
//
// The kind is also the one answer to "can retrying help?": IsTerminal says
// no for Refused, Usage and NotFound, and the server's queue, the adapters
// and the command line all ask it.
package failure

import (
	"errors"
	"fmt"
)

// Kind is the class of an error.
type Kind int

// The kinds of error, in the order of the exit codes they map to.
const (
	// Unknown is the kind of an error nobody classified.
	Unknown Kind = iota
	// Refused means the answer is no: invalid, blocked, refused for
	// integrity or policy. Retrying cannot change it.
	Refused
	// Usage means the request or the configuration is wrong.
	Usage
	// NotFound means what was asked for does not exist: an unknown model,
	// environment, version, revision, log or pull request.
	NotFound
	// Unavailable means storage, GitHub or a git remote could not answer;
	// a retry may help.
	Unavailable
)

var kindNames = map[Kind]string{
	Unknown:     "unknown",
	Refused:     "refused",
	Usage:       "usage",
	NotFound:    "notFound",
	Unavailable: "unavailable",
}

// String returns the kind's camelCase name, as the JSON error output spells
// it: "refused", "usage", "notFound", "unavailable" or "unknown".
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is an error marked with its kind. Its message is the message of
// the error it marks.
type Error struct {
	// Kind is the class of the error.
	Kind Kind
	// Err is the error that was marked.
	Err error
}

// Error returns the marked error's message.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the marked error.
func (e *Error) Unwrap() error { return e.Err }

// Mark returns err marked with kind, or nil when err is nil.
func Mark(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// NotFoundf returns a new error of kind NotFound.
func NotFoundf(format string, args ...any) error {
	return Mark(NotFound, fmt.Errorf(format, args...))
}

// Unavailablef returns a new error of kind Unavailable.
func Unavailablef(format string, args ...any) error {
	return Mark(Unavailable, fmt.Errorf(format, args...))
}

// NotFoundError returns err marked as NotFound.
func NotFoundError(err error) error { return Mark(NotFound, err) }

// UnavailableError returns err marked as Unavailable.
func UnavailableError(err error) error { return Mark(Unavailable, err) }

// Classified is implemented by error types that know their own kind, such
// as an adapter's error that knows whether GitHub or a git remote refused
// or merely failed to answer.
type Classified interface {
	error
	// FailureKind returns the kind of the error; Unknown leaves the
	// question open.
	FailureKind() Kind
}

// KindOf returns the kind of the outermost marked error in err's chain,
// so that a caller who knows better can re-mark an error; else the kind
// of the outermost Classified error in it; else Unknown.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var c Classified
	if errors.As(err, &c) {
		return c.FailureKind()
	}
	return Unknown
}

// IsTerminal reports whether retrying what failed with err cannot help
// until something changes: its kind is Refused, Usage or NotFound. An
// Unavailable or Unknown error is not terminal.
func IsTerminal(err error) bool {
	switch KindOf(err) {
	case Refused, Usage, NotFound:
		return true
	}
	return false
}
