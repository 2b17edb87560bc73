// Command latchkey serves the latchkey APIs.
//
//	latchkey [serve] [flags]   serve (the default command)
//	latchkey migrate [flags]   create or update the database schema, then exit
//	latchkey bootstrap [flags] create the bootstrap domain and admin if absent, then exit
//	latchkey version           print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/latchkey/latchkey/impl/app"
	"github.com/latchkey/latchkey/impl/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if cmd == "version" {
		fmt.Fprintln(stdout, "latchkey", version)
		return 0
	}
	if cmd != "serve" && cmd != "migrate" && cmd != "bootstrap" {
		fmt.Fprintf(stderr, "latchkey: unknown command %q (want serve, migrate, bootstrap or version)\n", cmd)
		return 2
	}
	cfg, err := config.Parse("latchkey "+cmd, args, os.Getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "latchkey:", err)
		return 2
	}
	log, err := app.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintln(stderr, "latchkey:", err)
		return 2
	}
	switch cmd {
	case "migrate":
		err = app.Migrate(ctx, cfg, log)
		if err == nil {
			fmt.Fprintln(stdout, "schema is up to date")
		}
	case "bootstrap":
		err = app.BootstrapOnly(ctx, cfg, log, stdout)
	default:
		err = app.Serve(ctx, cfg, log, stdout)
	}
	if err != nil {
		log.Error("latchkey stopped", "command", cmd, "err", err)
		return 1
	}
	return 0
}
