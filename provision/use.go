package provision

import (
	"context"
	"fmt"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/hint"
)

// Use writes a context for a teammate whom setup --minter let mint the
// account's tokens: it checks that right (a SelfSubjectAccessReview), mints
// once and asks who the token is, and only then writes the context. It
// needs no other right: it reads no namespace, role or binding.
func Use(ctx context.Context, r Request, d Deps) (*Report, error) {
	j, err := start(r, credential.Options{}, false, d)
	if err != nil {
		return nil, err
	}
	if err := checkMint(ctx, j); err != nil {
		return nil, err
	}
	token, err := j.tokenOptions()
	if err != nil {
		return nil, err
	}
	kept := j.keep(&token)
	if token.BoundObjectKind == "" && (r.Revocable || r.Changed == nil || !r.Changed("revocable")) {
		bind, err := revocationSecret(ctx, j)
		if err != nil {
			return nil, err
		}
		if bind {
			token.BoundObjectKind, token.BoundObjectName = "Secret", SecretName(r.Name)
		}
	}
	if err := j.replan(token); err != nil {
		return nil, err
	}
	j.rep.kept(kept)
	sa, user, err := j.prove(ctx, "")
	if err != nil {
		return nil, err
	}
	if err := j.write(); err != nil {
		return j.rep, err
	}
	j.actsAs(user)
	if token.BoundObjectKind == "Secret" && token.BoundObjectName == SecretName(r.Name) {
		fmt.Fprintf(d.Stdout, "Its tokens are bound to Secret %s/%s: kubemint revoke --service-account=%s kills them.\n", r.Namespace, SecretName(r.Name), r.Account())
	}
	mintedBy := ""
	if info, err := j.client.WhoAmI(ctx); err == nil {
		mintedBy = info.Username
	}
	fmt.Fprint(j.d.Stdout, traceLine(r.Account(), mintedBy))
	j.risks(ctx, sa, false)
	return j.rep, nil
}

// useProbeAudience is the audience of the token use mints to learn
// whether the account has a revocation Secret: no API server accepts it.
const useProbeAudience = "kubemint-use-probe.invalid"

// revocationSecret reports whether the account's revocation Secret exists,
// so that the teammate's tokens are bound to it as setup's are (and must
// be, where the revocation policy enforces it). A minter may not read
// Secrets, so it asks the one way it may: a TokenRequest bound to the
// Secret, for a throwaway token of the shortest lifetime with an audience
// no API server accepts; the API server refuses it when the Secret is not
// there. With --revocable, no Secret is an error.
func revocationSecret(ctx context.Context, j *job) (bool, error) {
	ns, name := j.r.Namespace, j.r.Name
	_, err := j.client.Mint(ctx, exchange.Request{Namespace: ns, Name: name, Audiences: []string{useProbeAudience},
		Duration: credential.MinDuration, BoundKind: "Secret", BoundName: SecretName(name)})
	switch {
	case err == nil:
		return true, nil
	case !j.r.Revocable && exchange.IsBoundObjectMissing(err):
		return false, nil
	case exchange.IsBoundObjectMissing(err):
		return false, hint.Wrap(fmt.Errorf("%s has no revocation Secret %s/%s on %s: it was not set up with --revocable, or kubemint revoke deleted it", j.r.Account(), ns, SecretName(name), j.src.Server),
			fmt.Sprintf("an admin runs kubemint setup --service-account=%s --revocable (again, after a revoke)", j.r.Account()),
			"or drop --revocable")
	}
	return false, err
}

// checkMint asks whether the source may mint the account's tokens, and
// when it may not, names the missing rule and the setup line an admin
// runs to grant it, in the error line itself.
func checkMint(ctx context.Context, j *job) error {
	ns, name := j.r.Namespace, j.r.Name
	allowed, _, err := j.client.CanMint(ctx, ns, name)
	if err != nil || allowed {
		return err
	}
	who, user := j.src.Label, ""
	if info, err := j.client.WhoAmI(ctx); err == nil {
		who, user = fmt.Sprintf("%s (%s)", j.src.Label, info.Username), info.Username
	}
	return fmt.Errorf("%s may not mint tokens for %s on %s: it needs create on serviceaccounts/token named %s in namespace %s; an admin grants it with: %s",
		who, j.r.Account(), j.src.Server, name, ns, exchange.MintGrantSetup(ns, name, user))
}
