package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/kubemint/kubemint/internal/hint"
)

// The variables GitHub Actions sets in a job whose workflow has
// `permissions: id-token: write`: the URL of the job's ID-token endpoint
// and the bearer token that authorizes a request to it.
const (
	GitHubRequestURLEnv   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	GitHubRequestTokenEnv = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// DefaultCIAudience is the audience kubemint asks GitHub's ID token for
// when --source-audience is not given; the AuthenticationConfiguration of
// the cluster must list it (docs/recipes.md uses it).
const DefaultCIAudience = "kubernetes"

// githubAnswerLimit bounds the answer of GitHub's ID-token endpoint: a
// JSON object with one JWT of 1 to 2 KiB.
const githubAnswerLimit = 16 << 10

// githubFix is the workflow change that makes GitHub set the variables
// and allows the request.
const githubFix = "give the job `permissions: id-token: write` in the workflow (a job run for a pull request from a fork never gets it)"

// GitHubActions is the source of a GitHub Actions job: an OIDC ID token
// for audience, asked of the job's ID-token endpoint on every mint (each
// is a new process, and GitHub's tokens live minutes), bounded by timeout
// and in size. server and ca name the API server, as for TokenFile; the
// cluster must trust GitHub's issuer (structured authentication
// configuration, see docs/recipes.md).
func GitHubActions(ctx context.Context, audience, server string, ca []byte, timeout time.Duration) (*Source, error) {
	if audience == "" {
		audience = DefaultCIAudience
	}
	if server == "" {
		return nil, hint.Wrap(errors.New("the API server for --source-github-actions is unknown"), noServerHint)
	}
	token, err := githubIDToken(ctx, audience, timeout)
	if err != nil {
		return nil, err
	}
	cfg := bearerConfig(server, ca)
	cfg.BearerToken = token
	return &Source{
		Context: "github-actions",
		Label:   fmt.Sprintf("the GitHub Actions ID token (audience %q)", audience),
		Config:  cfg, Server: server, CAData: ca,
		RefusedHint: fmt.Sprintf("the cluster must trust GitHub's issuer https://token.actions.githubusercontent.com with audience %q (--source-audience) in its AuthenticationConfiguration; see docs/recipes.md", audience),
	}, nil
}

// githubIDToken asks GitHub's ID-token endpoint for a token for audience,
// as actions/core getIDToken does: GET $ACTIONS_ID_TOKEN_REQUEST_URL with
// &audience= appended and the request token as bearer; the answer is
// {"value": "<jwt>"}. Errors name the variables, never their values.
func githubIDToken(ctx context.Context, audience string, timeout time.Duration) (string, error) {
	rawURL, reqToken := os.Getenv(GitHubRequestURLEnv), os.Getenv(GitHubRequestTokenEnv)
	var missing []string
	if rawURL == "" {
		missing = append(missing, GitHubRequestURLEnv)
	}
	if reqToken == "" {
		missing = append(missing, GitHubRequestTokenEnv)
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("--source-github-actions needs %s, which GitHub Actions sets only for a job allowed to ask for an ID token: %s", strings.Join(missing, " and "), githubFix)
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		// The request token must not travel in clear text.
		return "", fmt.Errorf("%s is not an https URL; it is set by GitHub Actions: do not override it", GitHubRequestURLEnv)
	}
	q := u.Query()
	q.Set("audience", audience)
	u.RawQuery = q.Encode()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("%s: %v", GitHubRequestURLEnv, err)
	}
	req.Header.Set("Authorization", "bearer "+reqToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "kubemint")
	resp, err := (&http.Client{Timeout: timeout, Transport: githubTransport, CheckRedirect: refuseRedirect}).Do(req)
	var redirect *RedirectError
	if errors.As(err, &redirect) {
		// The request token must go nowhere else, and an answer from
		// wherever a redirect leads is no ID token to use.
		return "", fmt.Errorf("asking GitHub's ID-token endpoint (%s): %v; %s is set by GitHub Actions: do not override it", GitHubRequestURLEnv, redirect, GitHubRequestURLEnv)
	}
	if err != nil {
		return "", fmt.Errorf("asking GitHub's ID-token endpoint (%s, host %s) for a token: %s; check the runner's network, or raise --request-timeout", GitHubRequestURLEnv, u.Host, netReason(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, githubAnswerLimit+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("reading the answer of GitHub's ID-token endpoint (%s): %s; check the runner's network, or raise --request-timeout", GitHubRequestURLEnv, netReason(err))
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", fmt.Errorf("GitHub's ID-token endpoint (%s) refused %s (%s): %s", GitHubRequestURLEnv, GitHubRequestTokenEnv, resp.Status, githubFix)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("GitHub's ID-token endpoint (%s) answered %s for audience %q; try again, or check https://www.githubstatus.com", GitHubRequestURLEnv, resp.Status, audience)
	case len(body) > githubAnswerLimit:
		return "", fmt.Errorf("GitHub's ID-token endpoint (%s) sent an answer larger than %s (an ID token is 1 to 2 KiB), and kubemint stopped reading it; check %s", GitHubRequestURLEnv, size(githubAnswerLimit), GitHubRequestURLEnv)
	}
	var answer struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || strings.TrimSpace(answer.Value) == "" {
		return "", fmt.Errorf("GitHub's ID-token endpoint (%s) sent no token (expected JSON {\"value\": \"<jwt>\"}); check %s", GitHubRequestURLEnv, GitHubRequestURLEnv)
	}
	return strings.TrimSpace(answer.Value), nil
}

// githubTransport is the transport to GitHub's endpoint: nil, the default
// one (the system's CAs, the proxy variables); tests replace it.
var githubTransport http.RoundTripper

// tokenEnvLimit bounds a token taken from a variable, as TokenFileLimit
// bounds one in a file.
const tokenEnvLimit = TokenFileLimit

// TokenEnv is the source of a JWT a CI system puts in the environment
// variable name (GitLab's id_tokens, and any CI that does the same). It is
// read on every mint. server and ca name the API server, as for TokenFile.
func TokenEnv(name, server string, ca []byte) (*Source, error) {
	token := strings.TrimSpace(os.Getenv(name))
	switch {
	case token == "":
		return nil, fmt.Errorf("--source-token-env: the variable %s is not set or empty; in GitLab CI declare it under the job's id_tokens (%s: {aud: %s}), elsewhere have the CI system put its OIDC token there", name, name, DefaultCIAudience)
	case len(token) > tokenEnvLimit:
		return nil, fmt.Errorf("--source-token-env: the variable %s is larger than %s, more than a token ever holds: is it the right variable?", name, size(tokenEnvLimit))
	}
	if server == "" {
		return nil, hint.Wrap(errors.New("the API server for --source-token-env is unknown"), noServerHint)
	}
	cfg := bearerConfig(server, ca)
	cfg.BearerToken = token
	return &Source{
		Context: "token-env",
		Label:   "the token in $" + name,
		Config:  cfg, Server: server, CAData: ca,
		RefusedHint: fmt.Sprintf("the cluster must trust the issuer of $%s, with its audience (the aud of the job's id_tokens), in its AuthenticationConfiguration, and the token must not have expired; see docs/recipes.md", name),
	}, nil
}
