// Package ci holds kubemint's CI integrations and their checks: the script
// setup-kubemint.sh, which the GitHub Action (action.yml at the repository
// root) runs and the GitLab CI/CD component (templates/kubemint.yml) carries,
// and release-version.sh, which keeps both installing the release they are
// part of. Its tests check those files and the docs' workflow and pipeline
// snippets that use them; e2e/action_test.go runs them against a release.
package ci
