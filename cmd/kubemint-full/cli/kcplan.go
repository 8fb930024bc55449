package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/kubeconfig"
)

// change is what a step did (or, with --dry-run, would do).
type change int

const (
	unchanged change = iota
	created
	updated
)

// report collects what setup and use did, one line per step.
type report struct {
	w       io.Writer
	dryRun  bool
	changed bool
}

func (r *report) step(c change, what string) {
	if c != unchanged {
		r.changed = true
	}
	word := [...]string{"unchanged", "created", "updated"}[c]
	if r.dryRun {
		word = [...]string{"unchanged", "would create", "would update"}[c]
		fmt.Fprintf(r.w, "%-14s%s\n", word, what)
		return
	}
	fmt.Fprintf(r.w, "%-11s%s\n", word, what)
}

func createdIf(b bool) change {
	if b {
		return created
	}
	return unchanged
}

// kcPlan is the kubeconfig change setup and use make: an exec user and
// context added to the kubeconfig the source context came from, or a
// standalone kubeconfig (--kubeconfig-out). It is worked out, and checked,
// before anything is created on the cluster.
type kcPlan struct {
	ctx  kubeconfig.Context
	file string
	// out is the --kubeconfig-out file, else empty.
	out string
	// For the source kubeconfig: the merged configuration, as kubectl sees it.
	raw *clientcmdapi.Config
	// For --kubeconfig-out: the cluster and the file's new content.
	clusterName string
	cluster     *clientcmdapi.Cluster
	data        []byte
}

// planKubeconfig works out the context (named contextName, default
// NS-NAME@CLUSTER) whose exec entry runs kubemint token with the options
// opts returns for the source context and the --source-kubeconfig it needs.
func planKubeconfig(src *exchange.Source, sourceKubeconfig, contextName, ns, name, out string, opts func(sourceContext, sourceFile string) credential.Options) (*kcPlan, error) {
	po := clientcmd.NewDefaultPathOptions()
	if sourceKubeconfig != "" {
		po.LoadingRules.ExplicitPath = sourceKubeconfig
	}
	raw, err := po.GetStartingConfig()
	if err != nil {
		return nil, err
	}
	clusterName := raw.Contexts[src.Context].Cluster
	c := kubeconfig.Context{Name: contextName, Cluster: clusterName, Namespace: ns}
	if c.Name == "" {
		c.Name = ns + "-" + name + "@" + clusterName
	}
	sourceFile, err := kubeconfig.SourceFileFor(po, src.Context, out != "")
	if err != nil {
		return nil, err
	}
	command, err := kubeconfig.KubemintPath()
	if err != nil {
		return nil, err
	}
	c.Exec = kubeconfig.Exec(command, opts(src.Context, sourceFile))
	// A new context goes into the file the source context came from, not
	// the first file of $KUBECONFIG, which may be another person's.
	file, err := kubeconfig.SourceFileFor(po, src.Context, true)
	if err != nil {
		file = po.GetDefaultFilename()
	}
	p := &kcPlan{ctx: c, raw: raw, file: file, out: out, clusterName: clusterName}
	if out != "" {
		p.file = out
		p.cluster = clientcmdapi.NewCluster()
		p.cluster.Server = src.Server
		p.cluster.CertificateAuthorityData = src.CAData
		if old := raw.Clusters[clusterName]; old != nil {
			p.cluster.TLSServerName, p.cluster.ProxyURL = old.TLSServerName, old.ProxyURL
		}
		if p.data, err = kubeconfig.Standalone(clusterName, p.cluster, c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// check reports, changing nothing, what would stop write: a file to
// replace without --force, a user of the context's name that kubemint did
// not write, a file that cannot be written.
func (p *kcPlan) check(force bool) error {
	if p.out != "" {
		return forceHint(kubeconfig.CheckStandalone(p.out, p.data, force))
	}
	if err := kubeconfig.Conflict(p.raw, p.ctx); err != nil {
		return hint.Wrap(err, "choose another --context-name")
	}
	if u := p.raw.AuthInfos[p.ctx.Name]; u != nil && u.LocationOfOrigin != "" {
		if err := kubeconfig.CheckWritable(u.LocationOfOrigin); err != nil {
			return err
		}
	}
	return kubeconfig.CheckWritable(p.file)
}

// state is what write would do.
func (p *kcPlan) state() change {
	if p.out != "" {
		if _, err := os.Lstat(p.out); err != nil {
			return created
		}
		if kubeconfig.CheckStandalone(p.out, p.data, false) == nil {
			return unchanged
		}
		return updated
	}
	if p.raw.Contexts[p.ctx.Name] != nil || p.raw.AuthInfos[p.ctx.Name] != nil {
		return updated // or unchanged: AddContext compares
	}
	return created
}

// write writes the plan; an edited kubeconfig is first backed up beside
// itself (as convert does). It returns what changed and the backups.
func (p *kcPlan) write(force bool) (change, []string, error) {
	before := p.state()
	if p.out != "" {
		changed, err := kubeconfig.WriteStandalone(p.out, p.clusterName, p.cluster, p.ctx, force)
		if !changed || err != nil {
			return unchanged, nil, forceHint(err)
		}
		return before, nil, nil
	}
	changed, backups, err := kubeconfig.AddContextWithBackup(p.raw, p.file, p.ctx, time.Now())
	if foreign := (*kubeconfig.ForeignUserError)(nil); errors.As(err, &foreign) {
		return unchanged, nil, hint.Wrap(err, "choose another --context-name")
	}
	if !changed || err != nil {
		return unchanged, backups, err
	}
	return before, backups, nil
}

// kubectlLine is how to use the new context: with --kubeconfig when it is
// in a file of its own, which kubectl does not read unless told.
func (p *kcPlan) kubectlLine() string {
	if p.out != "" {
		return fmt.Sprintf("kubectl --kubeconfig=%s --context=%s", p.out, p.ctx.Name)
	}
	return "kubectl --context " + p.ctx.Name
}

// forceHint adds the fix to *kubeconfig.ExistsError.
func forceHint(err error) error {
	var exists *kubeconfig.ExistsError
	if errors.As(err, &exists) {
		return hint.Wrap(fmt.Errorf("not writing over %s: %w", exists.Path, err), "pass --force to replace it, or choose another file")
	}
	return err
}
