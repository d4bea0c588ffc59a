package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/lakekit/lakekit/internal/awslocal"
)

func newLocal(a *app) *cobra.Command {
	local := group(&cobra.Command{
		Use:   "local",
		Short: "The local servers of lakekit's test kit",
	})
	local.AddCommand(newLocalInstall(a), newLocalUp(a))
	return local
}

func newLocalInstall(a *app) *cobra.Command {
	var o awslocal.InstallOptions
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install the pinned npm servers (s3rver, fauxqs, kinesis-local, dynalite, stepfunctions-local)",
		Long: `Install the npm servers that lakekit's test kit starts (s3copy/s3test,
sqsbatch/sqstest, kda/kinesistest, lakepipe/asl/sfntest), at the versions this
lakekit pins, with npm ci. They go into the user's cache directory unless
--dir says otherwise; a directory given with --dir is used by tests through
LAKEKIT_NODE_DIR. Needs Node.js 20 or later with npm.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Stdout, o.Stderr = cmd.ErrOrStderr(), cmd.ErrOrStderr()
			res, err := awslocal.Install(cmd.Context(), o)
			if err != nil {
				return err
			}
			sum := struct {
				Dir     string `json:"dir"`
				Already bool   `json:"already_installed"`
			}{res.Dir, res.Already}
			return a.summary(sum, func(w io.Writer) {
				if res.Already {
					fmt.Fprintf(w, "already installed in %s (--force reinstalls)\n", res.Dir)
					return
				}
				fmt.Fprintf(w, "installed in %s\n", res.Dir)
			})
		},
	}
	cmd.Flags().StringVar(&o.Dir, "dir", "", "install into `DIR` instead of the user cache directory")
	cmd.Flags().BoolVar(&o.Force, "force", false, "reinstall over an existing install")
	return cmd
}
