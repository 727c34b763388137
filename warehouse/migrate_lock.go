package warehouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The migration lock is a table: CREATE TABLE without IF NOT EXISTS succeeds for exactly one caller
// (the others get code 57, measured on 18.16 with six racing clients), DROP TABLE releases it. The
// holder writes its name and the server's time into it, again every lockHeartbeat, so a lock whose
// newest row is older than lockStaleAfter belongs to a process that died, and is broken. The engine
// is Log, not TinyLog: on 18.16 a TinyLog read during an insert fails (codes 11 and 1000, measured),
// Log locks.
const (
	lockTable      = "schema_migrations_lock"
	lockStaleAfter = 10 * time.Minute
	lockHeartbeat  = time.Minute
	lockWait       = 5 * time.Minute
	lockMaxBackoff = 2 * time.Second
)

type migrationLock struct {
	conn     driver.Conn
	database string
	owner    string
	stop     chan struct{}
	done     chan struct{}
}

// lockState is what a waiter sees of the current lock.
type lockState struct {
	owner string
	age   time.Duration // since the newest row, or since the table was created when it has none
}

func lockOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

func acquireLock(ctx context.Context, conn driver.Conn, database string, log *slog.Logger) (*migrationLock, error) {
	lk := &migrationLock{conn: conn, database: database, owner: lockOwner()}
	table := QuoteIdent(database) + "." + QuoteIdent(lockTable)
	deadline := time.Now().Add(lockWait)
	backoff := 50 * time.Millisecond
	waited := false
	var held lockState // as last read
	for {
		err := conn.Exec(ctx, "CREATE TABLE "+table+" (owner String, taken_at DateTime) ENGINE = Log")
		if err == nil {
			if err := lk.stamp(ctx); err != nil {
				_ = conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+table)
				return nil, err
			}
			lk.stop, lk.done = make(chan struct{}), make(chan struct{})
			go lk.heartbeat(log)
			return lk, nil
		}
		if ctx.Err() != nil && waited {
			return nil, fmt.Errorf("wait for migration lock %s.%s held by %q: %w", database, lockTable, held.owner, ctx.Err())
		}
		if !isCode(err, codeTableAlreadyExists) {
			return nil, fmt.Errorf("take migration lock %s.%s: %w", database, lockTable, err)
		}
		st, err := readLock(ctx, conn, database, lockTable)
		switch {
		case isCode(err, codeUnknownTable):
			continue // released between our CREATE and SELECT
		case err != nil: // unknown state: wait as if held
			if held.owner == "" {
				held.owner = fmt.Sprintf("unknown (reading the lock failed: %v)", err)
			}
		case st.age >= lockStaleAfter:
			if err := breakLock(ctx, conn, database, st, log); err != nil {
				return nil, err
			}
			continue
		default:
			held = st
		}
		if !waited {
			waited = true
			log.Info("waiting for the migration lock", "database", database, "owner", held.owner, "held_for", held.age.String())
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("migration lock %s.%s is held by %q (for %s); gave up after %s. If that process is gone the lock is broken once it is %s old, or DROP TABLE it",
				database, lockTable, held.owner, held.age, lockWait, lockStaleAfter)
		}
		sleep := backoff/2 + mrand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for migration lock %s.%s held by %q: %w", database, lockTable, held.owner, ctx.Err())
		case <-time.After(sleep):
		}
		backoff = min(2*backoff, lockMaxBackoff)
	}
}

// stamp writes the owner and the server's current time into the lock table.
func (lk *migrationLock) stamp(ctx context.Context) error {
	q := "INSERT INTO " + QuoteIdent(lk.database) + "." + QuoteIdent(lockTable) + " (owner, taken_at) SELECT ?, now()"
	if err := lk.conn.Exec(ctx, q, lk.owner); err != nil {
		return fmt.Errorf("write migration lock %s.%s: %w", lk.database, lockTable, err)
	}
	return nil
}

func (lk *migrationLock) heartbeat(log *slog.Logger) {
	defer close(lk.done)
	t := time.NewTicker(lockHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-lk.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := lk.stamp(ctx); err != nil {
				log.Warn("refresh migration lock", "database", lk.database, "err", err)
			}
			cancel()
		}
	}
}

// release stops the heartbeat and drops the lock table if it is still ours.
func (lk *migrationLock) release(ctx context.Context) error {
	close(lk.stop)
	<-lk.done
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	st, err := readLock(ctx, lk.conn, lk.database, lockTable)
	if err != nil {
		return fmt.Errorf("release migration lock %s.%s: %w", lk.database, lockTable, err)
	}
	if st.owner != lk.owner {
		return fmt.Errorf("release migration lock %s.%s: it was taken over by %q (this run held it longer than %s)",
			lk.database, lockTable, st.owner, lockStaleAfter)
	}
	if err := lk.conn.Exec(ctx, "DROP TABLE "+QuoteIdent(lk.database)+"."+QuoteIdent(lockTable)); err != nil {
		return fmt.Errorf("release migration lock %s.%s: %w", lk.database, lockTable, err)
	}
	return nil
}

// readLock reads the newest owner and the age of a lock table, measured on the server's clock.
func readLock(ctx context.Context, conn driver.Conn, database, table string) (lockState, error) {
	var n uint64
	var st lockState
	var age int64
	q := "SELECT count(), argMax(owner, taken_at), toInt64(now()) - toInt64(max(taken_at)) FROM " +
		QuoteIdent(database) + "." + QuoteIdent(table)
	if err := conn.QueryRow(ctx, q).Scan(&n, &st.owner, &age); err != nil {
		return st, err
	}
	if n == 0 { // the creator has not written yet, or died before it could: age of the table
		err := conn.QueryRow(ctx, "SELECT toInt64(now()) - toInt64(metadata_modification_time) FROM system.tables WHERE database = ? AND name = ?",
			database, table).Scan(&age)
		if err != nil {
			return st, err
		}
	}
	st.age = time.Duration(age) * time.Second
	return st, nil
}

// breakLock removes a stale lock. It renames the table first (atomic: of several waiters breaking
// the same lock only one succeeds) and checks that what it renamed is still the stale lock: if a
// live lock was taken in between, it puts it back.
func breakLock(ctx context.Context, conn driver.Conn, database string, seen lockState, log *slog.Logger) error {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	aside := lockTable + "_stale_" + hex.EncodeToString(b)
	db := QuoteIdent(database)
	if err := conn.Exec(ctx, "RENAME TABLE "+db+"."+QuoteIdent(lockTable)+" TO "+db+"."+QuoteIdent(aside)); err != nil {
		if isCode(err, codeUnknownTable) {
			return nil // someone else broke or released it
		}
		return fmt.Errorf("break stale migration lock %s.%s: %w", database, lockTable, err)
	}
	st, err := readLock(ctx, conn, database, aside)
	if err != nil {
		return fmt.Errorf("break stale migration lock %s.%s: %w", database, lockTable, err)
	}
	if st.age < lockStaleAfter {
		err := conn.Exec(ctx, "RENAME TABLE "+db+"."+QuoteIdent(aside)+" TO "+db+"."+QuoteIdent(lockTable))
		if err == nil {
			return nil
		}
		log.Error("moved a live migration lock aside and could not restore it", "database", database,
			"owner", st.owner, "table", aside, "err", err)
	} else {
		log.Warn("broke a stale migration lock", "database", database, "owner", seen.owner,
			"age", st.age.String(), "stale_after", lockStaleAfter.String())
	}
	if err := conn.Exec(ctx, "DROP TABLE "+db+"."+QuoteIdent(aside)); err != nil {
		return fmt.Errorf("drop stale migration lock %s.%s: %w", database, aside, err)
	}
	return nil
}
