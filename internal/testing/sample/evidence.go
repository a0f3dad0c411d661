package sample

import "fmt"

// ReportBytes returns the sample validation report of a model version: a
// small HTML page whose bytes depend only on model and version.
func ReportBytes(model, version string) []byte {
	return fmt.Appendf(nil, "<!doctype html>\n<title>Validation of %s %s</title>\n<p>Backtests passed for %s %s.</p>\n", model, version, model, version)
}

// SBOMBytes returns the sample SBOM of a model version: an SPDX 2.3 JSON
// document whose bytes depend only on model and version.
func SBOMBytes(model, version string) []byte {
	return fmt.Appendf(nil, `{
  "spdxVersion": "SPDX-2.3",
  "dataLicense": "CC0-1.0",
  "SPDXID": "SPDXRef-DOCUMENT",
  "name": "%[1]s %[2]s",
  "documentNamespace": "https://mlartifacts.blob.core.windows.net/reports/%[1]s/%[2]s/sbom",
  "creationInfo": {"created": "2026-11-01T00:00:00Z", "creators": ["Tool: promobot-sample"]},
  "packages": [
    {"SPDXID": "SPDXRef-Package-scikit-learn", "name": "scikit-learn", "versionInfo": "1.5.2", "downloadLocation": "https://pypi.org/project/scikit-learn/1.5.2/", "licenseConcluded": "BSD-3-Clause"},
    {"SPDXID": "SPDXRef-Package-numpy", "name": "numpy", "versionInfo": "2.1.3", "downloadLocation": "https://pypi.org/project/numpy/2.1.3/", "licenseConcluded": "BSD-3-Clause"}
  ]
}
`, model, version)
}
