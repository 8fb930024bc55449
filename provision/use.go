package provision

import (
	"context"
	"fmt"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
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
	_, user, err := j.prove(ctx, "")
	if err != nil {
		return nil, err
	}
	if err := j.write(); err != nil {
		return j.rep, err
	}
	j.actsAs(user)
	return j.rep, nil
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
