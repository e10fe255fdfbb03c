//go:build mutant

// Seeded bug keyindex-purges-fresh-keys (gate A): Purge's stop test is inverted: it stops at the first expired key and drops the unexpired ones before it, so keys spilled to disk are purged right after the spill and an older key's retry executes again

package keyindex

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// Purge deletes up to max records whose time is before cutoff, oldest seq
// first, and returns how many it deleted.
func (d *Disk) Purge(cutoff time.Time, max int) (int, error) {
	n := 0
	err := d.db.Update(func(tx *bolt.Tx) error {
		keys, seqs := tx.Bucket(bucketKeys), tx.Bucket(bucketSeqs)
		c := seqs.Cursor()
		for sk, k := c.First(); sk != nil && n < max; sk, k = c.First() {
			if v := keys.Get(k); v != nil {
				if r, err := decode(v); err == nil && r.At.Before(cutoff) {
					return nil // seq order is time order: the rest is younger
				}
			}
			if err := dropAt(keys, c, sk, k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
