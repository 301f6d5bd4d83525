import re

import psycopg2
from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import api, fields, models
from odoo.sql_db import Cursor
from odoo.tools import SQL

from odoo.addons.queue_job.exception import RetryableJobError

#: first key of the advisory locks taken while a block is reserved (the
#: second is the journal and sequence prefix)
LOCK_NAMESPACE = 0x7265636E  # "recn"


class ReconNumberBlock(models.Model):
    """Entry numbers set aside for one chunk of a run while it is processed.

    Odoo numbers a journal entry after the journal's last number and writes
    it under a unique index: a second transaction numbering in the same
    journal and period takes the same number, waits on the index until the
    first one commits, then retries number after number. Chunks processed
    side by side would wait for each other that way. Instead, a chunk about
    to number ``n`` entries takes a block of ``n`` numbers in a transaction
    of its own, committed at once: after the journal's last committed
    number, after the blocks other chunks hold, after what its own
    transaction numbered. The chunks then number in their own blocks without
    meeting.

    A block lives as long as its chunk is not done: it is deleted once the
    transaction that marks the chunk done has committed (the entries
    numbered in it then hold its numbers). A chunk processed again
    (its worker died, its transaction was rolled back) numbers in the block
    it reserved before. Numbers are skipped (a gap in the journal's
    sequence) only when a chunk never completes (its job failed for good)
    while later chunks number after its block: see docs/scale-out.md.

    The journal and the chunk are kept as plain ids: the block is
    written in a transaction of its own while the chunk's transaction holds
    locks (its chunk row among them), and a foreign key would make the one
    wait for the other.
    """

    _name = "recon.number.block"
    _description = "Reserved Entry Numbers (Job Queue)"
    _log_access = False

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    journal_id = fields.Integer(required=True, readonly=True)
    sequence_prefix = fields.Char(required=True, readonly=True)
    first = fields.Integer(required=True, readonly=True)
    last = fields.Integer(required=True, readonly=True)
    chunk_id = fields.Integer(required=True, readonly=True, index=True)

    def init(self):
        self.env.cr.execute(SQL(
            "CREATE INDEX IF NOT EXISTS recon_number_block_journal_prefix_index "
            "ON recon_number_block (journal_id, sequence_prefix, last DESC)"))

    def _reserve(self, moves, last, chunk_id):
        """The number after which ``moves`` (one chain of new entries of one
        journal and period, in order) are numbered in a block of their own,
        ``last`` being the journal's last number as this transaction sees it.

        :raise RetryableJobError: the block could not be reserved in time
            (the job is run again later)
        """
        move = moves[0]
        prefix, seen = self._split(move, last)
        format_string, format_values = move._get_sequence_format_param(last)
        # the blocks this transaction numbered in already (a chunk may post
        # into the same journal more than once)
        taken = self.env.cr.cache.setdefault("recon_number_blocks", set())
        try:
            first, block_id = self._reserve_block(
                move.company_id.id, move.journal_id.id, prefix, seen, len(moves), chunk_id, taken)
        except psycopg2.OperationalError as exc:
            raise RetryableJobError(f"Numbers of {move.journal_id.display_name} not reserved: {exc}",
                                    seconds=5) from exc
        taken.add(block_id)
        return format_string.format(**dict(format_values, seq=first - 1))

    def _reserve_block(self, company_id, journal_id, prefix, seen, count, chunk_id, taken):
        """``(first number, block id)`` of a block of ``count`` numbers,
        reserved and committed in a transaction of its own: the chunk's
        block when it has one whose numbers are all free (it was processed
        before and rolled back), else a new one after every number
        committed or reserved."""
        with self.env.registry.cursor() as cr:
            if isinstance(cr, Cursor):  # (a test's cursor shares the test's transaction)
                # each statement reads what is committed when it starts: the
                # numbers after the lock, not those before it
                cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            cr.execute("SET LOCAL lock_timeout = '30s'")
            cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                           LOCK_NAMESPACE, f"{journal_id}/{prefix}"))
            cr.execute(SQL(
                """SELECT id, first FROM recon_number_block block
                    WHERE chunk_id = %s AND journal_id = %s AND sequence_prefix = %s
                      AND last - first + 1 >= %s AND NOT id = ANY(%s)
                      AND NOT EXISTS (SELECT 1 FROM account_move move
                                       WHERE move.journal_id = block.journal_id
                                         AND move.sequence_prefix = block.sequence_prefix
                                         AND move.sequence_number BETWEEN block.first AND block.last)
                 ORDER BY id LIMIT 1""",
                chunk_id, journal_id, prefix, count, list(taken)))
            if row := cr.fetchone():
                return row[1], row[0]
            cr.execute(SQL(
                """SELECT GREATEST(%s,
                       (SELECT MAX(sequence_number) FROM account_move
                         WHERE journal_id = %s AND sequence_prefix = %s),
                       (SELECT MAX(last) FROM recon_number_block
                         WHERE journal_id = %s AND sequence_prefix = %s))""",
                seen, journal_id, prefix, journal_id, prefix))
            first = (cr.fetchone()[0] or 0) + 1
            cr.execute(SQL(
                """INSERT INTO recon_number_block (company_id, journal_id, sequence_prefix, first, last, chunk_id)
                   VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
                company_id, journal_id, prefix, first, first + count - 1, chunk_id))
            return first, cr.fetchone()[0]

    @staticmethod
    def _split(move, name):
        """``(sequence prefix, number)`` of the entry number ``name``, as core
        splits it (``sequence.mixin._compute_split_sequence``)."""
        regex = move._make_regex_non_capturing(move._sequence_fixed_regex.replace(r"?P<seq>", ""))
        matching = re.match(regex, name)
        return name[:matching.start(1)], int(matching.group(1) or 0)

    def _release(self, chunk_ids):
        """Once the transaction that marks the chunks ``chunk_ids`` done has
        committed, drop their blocks (the entries' numbers take over), in a
        transaction of its own: the chunks' transaction reads the database
        as it was when it began, without the blocks reserved since. Blocks
        a worker that died in between left are dropped by :meth:`_gc`."""
        registry = self.env.registry
        chunk_ids = list(chunk_ids)

        def release():
            with registry.cursor() as cr:
                cr.execute(SQL("DELETE FROM recon_number_block WHERE chunk_id = ANY(%s)", chunk_ids))

        self.env.cr.postcommit.add(release)

    @api.model
    def _gc(self):
        """Drop the blocks no chunk to process holds any more (its chunk was
        done or deleted): left by a worker that died between its chunk's
        commit and the release (:meth:`_release`)."""
        self.env.cr.execute(SQL(
            """DELETE FROM recon_number_block block
                WHERE NOT EXISTS (SELECT 1 FROM recon_run_chunk chunk
                                   WHERE chunk.id = block.chunk_id AND chunk.state = 'pending')"""))
