// Package buildinfo has no code of its own. Its tests hold how promobot is
// built and shipped to what the issue asks of it, so that none of it can
// regress silently: the Dockerfile (multi-stage, static, non-root, exec-form
// entry point) and its build context, the reproducible `make build`, the
// GitHub App manifest (least privilege) and the reusable GitHub Action in
// action.yml, whose scripts run against local git repositories.
package buildinfo
