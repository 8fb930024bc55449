// Package nodump keeps the process that holds a token out of core dumps
// and away from ptrace by other processes of the same user, as ssh-agent
// does: a core dump written with GOTRACEBACK=crash held the token.
package nodump
