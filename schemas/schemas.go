// Package schemas embeds the JSON Schemas that define promobot's public file
// formats: the model deployment manifest, the promotion policy and the
// promotion attestation predicate.
//
// The files in this directory are the contract; the Go code only embeds them
// so that the binary carries defaults when a repository has none.
package schemas

import _ "embed"

// ModelDeploymentPath is the repository path of the manifest schema.
const ModelDeploymentPath = "schemas/model-deployment.schema.json"

// PolicyPath is the repository path of the policy schema.
const PolicyPath = "schemas/policy.schema.json"

// ModelDeployment is the default JSON Schema for environment manifests.
//
//go:embed model-deployment.schema.json
var ModelDeployment []byte

// Policy is the default JSON Schema for .github/promobot.yaml.
//
//go:embed policy.schema.json
var Policy []byte

// PromotionAttestationPath is the repository path of the promotion
// attestation predicate schema.
const PromotionAttestationPath = "schemas/promotion-attestation.schema.json"

// PromotionAttestation is the JSON Schema of the promotion attestation
// predicate (predicate type https://github.com/example-org/promobot/attestation/promotion/v1).
//
//go:embed promotion-attestation.schema.json
var PromotionAttestation []byte
