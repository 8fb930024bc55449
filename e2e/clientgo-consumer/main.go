// Command clientgo-consumer is a long-running client-go program, as a
// controller or a CI tool is: it lists pods every -every for -for through a
// kubeconfig context, and fails on the first error. The end-to-end tests
// run it with a kubemint exec entry to prove that client-go's exec provider
// accepts kubemint's answers and keeps working across a re-mint.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file")
	kctx := flag.String("context", "", "context to use")
	ns := flag.String("namespace", "default", "namespace whose pods to list")
	total := flag.Duration("for", 5*time.Second, "how long to keep calling")
	every := flag.Duration("every", 500*time.Millisecond, "pause between calls")
	flag.Parse()

	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: *kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: *kctx},
	).ClientConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	calls := 0
	for end := time.Now().Add(*total); time.Now().Before(end); time.Sleep(*every) {
		if _, err := client.CoreV1().Pods(*ns).List(context.Background(), metav1.ListOptions{}); err != nil {
			fmt.Fprintf(os.Stderr, "call %d: %v\n", calls+1, err)
			os.Exit(1)
		}
		calls++
	}
	fmt.Println(calls)
}
