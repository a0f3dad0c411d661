// Package sbom identifies software bills of materials: it accepts an SPDX
// 2.3 JSON document or a CycloneDX JSON document of specification 1.5 or
// later, and says what it found or why it refuses the bytes.
//
// The package is pure: it reads no files and makes no network calls.
package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxSize is the largest SBOM, in bytes, that is read.
const MaxSize = 32 << 20

// Format is a supported SBOM format.
type Format string

// The supported formats.
const (
	SPDX      Format = "SPDX"
	CycloneDX Format = "CycloneDX"
)

// Document is what Identify found: the format and its version, such as
// SPDX 2.3 or CycloneDX 1.6.
type Document struct {
	Format  Format
	Version string
}

// String names the document, such as "SPDX 2.3 JSON".
func (d Document) String() string { return string(d.Format) + " " + d.Version + " JSON" }

// ErrUnsupported is wrapped by every refusal of Identify.
var ErrUnsupported = errors.New("not an SPDX 2.3 or CycloneDX 1.5+ JSON document")

// header holds the fields that identify a document.
type header struct {
	SPDXVersion       *string         `json:"spdxVersion"`
	SPDXID            string          `json:"SPDXID"`
	DocumentNamespace string          `json:"documentNamespace"`
	CreationInfo      json.RawMessage `json:"creationInfo"`
	BOMFormat         *string         `json:"bomFormat"`
	SpecVersion       string          `json:"specVersion"`
}

// Identify reports whether data is an SPDX 2.3 JSON document (spdxVersion
// SPDX-2.3, SPDXID SPDXRef-DOCUMENT, a documentNamespace and creationInfo)
// or a CycloneDX JSON document (bomFormat CycloneDX) whose specVersion is
// 1.5 or later. The error wraps ErrUnsupported and says what is wrong.
func Identify(data []byte) (Document, error) {
	if len(data) > MaxSize {
		return Document{}, fmt.Errorf("%w: %d bytes is more than the %d an SBOM may have", ErrUnsupported, len(data), MaxSize)
	}
	var h header
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&h); err != nil {
		return Document{}, fmt.Errorf("%w: not a JSON object with the expected fields: %v", ErrUnsupported, err)
	}
	if dec.More() {
		return Document{}, fmt.Errorf("%w: data follows the JSON object", ErrUnsupported)
	}
	switch {
	case h.SPDXVersion != nil && h.BOMFormat != nil:
		return Document{}, fmt.Errorf("%w: it claims to be both SPDX and CycloneDX", ErrUnsupported)
	case h.SPDXVersion != nil:
		return spdx(h)
	case h.BOMFormat != nil:
		return cycloneDX(h)
	}
	return Document{}, fmt.Errorf("%w: it has neither spdxVersion nor bomFormat", ErrUnsupported)
}

func spdx(h header) (Document, error) {
	switch {
	case *h.SPDXVersion != "SPDX-2.3":
		return Document{}, fmt.Errorf("%w: spdxVersion is %q, want SPDX-2.3", ErrUnsupported, *h.SPDXVersion)
	case h.SPDXID != "SPDXRef-DOCUMENT":
		return Document{}, fmt.Errorf("%w: SPDXID is %q, want SPDXRef-DOCUMENT", ErrUnsupported, h.SPDXID)
	case h.DocumentNamespace == "":
		return Document{}, fmt.Errorf("%w: an SPDX document needs a documentNamespace", ErrUnsupported)
	case !isObject(h.CreationInfo):
		return Document{}, fmt.Errorf("%w: an SPDX document needs a creationInfo object", ErrUnsupported)
	}
	return Document{Format: SPDX, Version: "2.3"}, nil
}

func cycloneDX(h header) (Document, error) {
	if *h.BOMFormat != "CycloneDX" {
		return Document{}, fmt.Errorf("%w: bomFormat is %q, want CycloneDX", ErrUnsupported, *h.BOMFormat)
	}
	major, minor, ok := parseVersion(h.SpecVersion)
	if !ok {
		return Document{}, fmt.Errorf("%w: specVersion %q is not a CycloneDX version such as 1.5", ErrUnsupported, h.SpecVersion)
	}
	if major < 1 || major == 1 && minor < 5 {
		return Document{}, fmt.Errorf("%w: CycloneDX specVersion %s is older than 1.5", ErrUnsupported, h.SpecVersion)
	}
	return Document{Format: CycloneDX, Version: h.SpecVersion}, nil
}

// parseVersion parses "MAJOR.MINOR".
func parseVersion(s string) (major, minor int, ok bool) {
	a, b, found := strings.Cut(s, ".")
	if !found {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || major < 0 || minor < 0 || strings.HasPrefix(b, "+") || strings.HasPrefix(a, "+") {
		return 0, 0, false
	}
	return major, minor, true
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}
