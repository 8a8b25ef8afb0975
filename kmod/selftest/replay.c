// SPDX-License-Identifier: GPL-2.0
/*
 * Self-tests of the anti-replay window, ESN inference and outbound sequence
 * numbers; included at the end of replay.c in the debug build.
 *
 * Three layers: scripted cases for the RFC 4303 rules and their edges, a
 * sweep per window size that checks every number around the window, and a
 * pseudo-random walk compared against a model that keeps one flag per
 * number (no words, no ring of blocks), so the two share no logic.
 */

#include <linux/slab.h>

#ifndef KIPSEC_REPLAY_RANDOM_STEPS
#define KIPSEC_REPLAY_RANDOM_STEPS	20000
#endif

/* The state is the last member of its owner, as in struct kipsec_sa. */
struct replay_owner {
	u64 other;
	struct kipsec_replay r;
};

/* Poisoned, so that the tests see whatever kipsec_replay_init() leaves. */
static struct replay_owner *replay_alloc(u32 size)
{
	size_t len = struct_size_t(struct replay_owner, r.bmp,
				   kipsec_replay_blocks(size));
	struct replay_owner *o = kmalloc(len, GFP_KERNEL);

	if (o)
		memset(o, 0xa5, len);
	return o;
}

enum replay_op {
	R_END,		/* end of the script */
	R_OK,		/* check gives @seq, advance succeeds */
	R_BAD,		/* check refuses */
	R_CHECK,	/* check gives @seq; nothing recorded */
	R_ADV_OK,	/* advance @seq succeeds (after an R_CHECK) */
	R_ADV_BAD,	/* advance @seq refuses: another CPU was first */
	R_TOP,		/* the highest number accepted is @seq */
};

struct replay_step {
	u8 op;
	u32 lo;
	u64 seq;
};

#define OK(l, s)	{ .op = R_OK, .lo = (l), .seq = (s) }
#define BAD(l)		{ .op = R_BAD, .lo = (l) }
#define CHECK(l, s)	{ .op = R_CHECK, .lo = (l), .seq = (s) }
#define ADV_OK(s)	{ .op = R_ADV_OK, .seq = (s) }
#define ADV_BAD(s)	{ .op = R_ADV_BAD, .seq = (s) }
#define TOP(s)		{ .op = R_TOP, .seq = (s) }
#define END		{ .op = R_END }

static const struct replay_step in_order[] = {
	BAD(0), OK(1, 1), OK(2, 2), OK(3, 3), BAD(3), BAD(1), OK(4, 4),
	BAD(2), TOP(4),
	END,
};

static const struct replay_step out_of_order[] = {
	OK(10, 10), OK(5, 5), OK(9, 9), BAD(5), OK(1, 1), BAD(9),
	/* window 32: 42 puts 10 just outside, 11 just inside */
	OK(42, 42), BAD(10), OK(11, 11), BAD(11), BAD(9), OK(41, 41),
	BAD(42), TOP(42),
	END,
};

static const struct replay_step edge_64[] = {
	OK(100, 100), BAD(36), OK(37, 37), BAD(37), OK(99, 99), BAD(99),
	END,
};

/* 100 is not a multiple of the word size: the edge is still exact. */
static const struct replay_step edge_100[] = {
	OK(1000, 1000), BAD(900), OK(901, 901), OK(999, 999), BAD(999),
	OK(1001, 1001), BAD(901), OK(902, 902), BAD(901),
	END,
};

static const struct replay_step racing_cpus[] = {
	OK(1, 1),
	/* two CPUs pass the check for 5; the second loses in advance */
	CHECK(5, 5), CHECK(5, 5), ADV_OK(5), ADV_BAD(5), BAD(5),
	/* 6 passes the check, then another CPU moves the window past it */
	CHECK(6, 6), OK(200, 200), ADV_BAD(6), BAD(6), TOP(200),
	END,
};

static const struct replay_step no_window[] = {
	OK(5, 5), OK(5, 5), OK(0, 0), OK(3, 3), TOP(5), OK(6, 6), TOP(6),
	END,
};

/* Restored at 1000: whatever is below counts as seen. */
static const struct replay_step restored[] = {
	BAD(1000), BAD(990), BAD(969), BAD(968), OK(1001, 1001),
	OK(1040, 1040), CHECK(1009, 1009), BAD(1008), BAD(1001),
	OK(1039, 1039), BAD(1039), TOP(1040),
	END,
};

/* Without ESN the counter ends at 2^32 - 1 and never wraps. */
static const struct replay_step no_esn_end[] = {
	OK(0xfffffffe, 0xfffffffe), OK(0xffffffff, 0xffffffff), BAD(0),
	BAD(1), BAD(0xfffffff0), OK(0xfffffffd, 0xfffffffd), BAD(0xffffffff),
	TOP(0xffffffff),
	END,
};

/* ESN, window 32, fresh SA: the window spans two blocks of 2^32 (case B). */
static const struct replay_step esn_start[] = {
	BAD(0),			/* number 0 */
	BAD(0xffffffff),	/* would belong to the block before 0 */
	BAD(0xffffffe1),	/* the bottom of the window: same */
	CHECK(0xffffffe0, 0xffffffe0),	/* below the bottom: far ahead */
	OK(1, 1), OK(2, 2), BAD(0xfffffff0), OK(40, 40),
	/*
	 * Now case A: below the bottom (9) means the next block. The packet
	 * passes the check as a number far ahead and fails the ICV, which is
	 * how Appendix A rejects it.
	 */
	CHECK(5, 0x100000005ULL), CHECK(9, 9), CHECK(0xfffffff0, 0xfffffff0),
	TOP(40),
	END,
};

/* ESN, window 64, crossing 2^32 upwards with late packets from before. */
static const struct replay_step esn_wrap[] = {
	OK(0xffffffc0, 0xffffffc0), OK(0xfffffffe, 0xfffffffe),
	OK(0, 0x100000000ULL),			/* low half 0 is valid */
	OK(1, 0x100000001ULL),
	OK(0xffffffff, 0xffffffff),		/* late, previous block */
	BAD(0xffffffff), BAD(0xfffffffe),
	OK(0xffffffc3, 0xffffffc3),		/* 62 below the top */
	OK(0xffffffc2, 0xffffffc2),		/* 63 below: last slot */
	CHECK(0xffffffc1, 0x1ffffffc1ULL),	/* 64 below: next block */
	BAD(0xffffffc2), BAD(0),
	OK(0x40, 0x100000040ULL),		/* case A again */
	BAD(1), CHECK(0, 0x200000000ULL), CHECK(2, 0x100000002ULL),
	TOP(0x100000040ULL),
	END,
};

/* ESN, window 4096, restored just after 2^32: case B with a wide window. */
static const struct replay_step esn_wide[] = {
	BAD(0xfffff011),			/* in the window, seen */
	CHECK(0xfffff010, 0x1fffff010ULL),	/* below it */
	OK(0x11, 0x100000011ULL), BAD(0x10), BAD(0x11),
	OK(0x2000, 0x100002000ULL),
	/* case A: below the window means the next block, not too old */
	CHECK(0x1001, 0x100001001ULL), CHECK(0x1000, 0x200001000ULL),
	BAD(0x2000), TOP(0x100002000ULL),
	END,
};

/* ESN at the very end of the number space: no wrap to 0. */
static const struct replay_step esn_end[] = {
	OK(0xfffffffe, U64_MAX - 1), OK(0xffffffff, U64_MAX), BAD(0), BAD(5),
	BAD(0xffffffff), OK(0xffffffd0, U64_MAX - 0x2f), TOP(U64_MAX),
	END,
};

struct replay_case {
	const char *name;
	u32 size;
	bool esn;
	u64 seq_in;
	const struct replay_step *steps;
};

#define CASE(n, sz, e, in, s) \
	{ .name = n, .size = sz, .esn = e, .seq_in = in, .steps = s }

static const struct replay_case replay_cases[] = {
	CASE("in order", 32, false, 0, in_order),
	CASE("out of order", 32, false, 0, out_of_order),
	CASE("window 64 edge", 64, false, 0, edge_64),
	CASE("window 100 edge", 100, false, 0, edge_100),
	CASE("racing CPUs", 64, false, 0, racing_cpus),
	CASE("window 0", 0, false, 0, no_window),
	CASE("restored", 32, false, 1000, restored),
	CASE("end without ESN", 64, false, 0xfffffff0, no_esn_end),
	CASE("ESN start", 32, true, 0, esn_start),
	CASE("ESN wrap", 64, true, 0xffffff00, esn_wrap),
	CASE("ESN wide window", 4096, true, 0x100000010ULL, esn_wide),
	CASE("ESN end", 64, true, U64_MAX - 0x3f, esn_end),
};

static bool replay_run_case(const struct replay_case *c)
{
	struct replay_owner *o;
	bool ok = false;
	unsigned int i;

	o = replay_alloc(c->size);
	if (!o)
		return false;
	if (kipsec_replay_init(&o->r, c->size, c->esn, c->seq_in)) {
		pr_err("replay self-test \"%s\": init failed\n", c->name);
		goto out;
	}

	for (i = 0; c->steps[i].op != R_END; i++) {
		const struct replay_step *s = &c->steps[i];
		u64 seq = 0xdeadbeefULL;
		int err, want;

		switch (s->op) {
		case R_OK:
		case R_CHECK:
			err = kipsec_replay_check(&o->r, cpu_to_be32(s->lo),
						  &seq);
			if (err || seq != s->seq)
				goto fail;
			if (s->op == R_OK && kipsec_replay_advance(&o->r, seq))
				goto fail;
			break;
		case R_BAD:
			if (kipsec_replay_check(&o->r, cpu_to_be32(s->lo),
						&seq) != -EINVAL)
				goto fail;
			break;
		case R_ADV_OK:
		case R_ADV_BAD:
			want = s->op == R_ADV_OK ? 0 : -EINVAL;
			if (kipsec_replay_advance(&o->r, s->seq) != want)
				goto fail;
			break;
		case R_TOP:
			if (kipsec_replay_last(&o->r) != s->seq)
				goto fail;
			break;
		default:
			goto fail;
		}
	}
	ok = true;
	goto out;

fail:
	pr_err("replay self-test \"%s\": step %u (op %u, 0x%x, 0x%llx) failed\n",
	       c->name, i, c->steps[i].op, c->steps[i].lo, c->steps[i].seq);
out:
	kfree(o);
	return ok;
}

/*
 * Check @seq, and record it if @record. -ERANGE: the check accepted the
 * low half as another number (with ESN, one just below the window is read
 * as one in the next block of 2^32).
 */
static int replay_feed(struct kipsec_replay *r, u64 seq, bool record)
{
	u64 got;
	int err;

	err = kipsec_replay_check(r, cpu_to_be32(lower_32_bits(seq)), &got);
	if (err)
		return err;
	if (got != seq)
		return got > r->top ? -ERANGE : -EFAULT;
	return record ? kipsec_replay_advance(r, seq) : 0;
}

/* Below the window: refused, or read as a number ahead of it with ESN. */
static bool replay_too_old(struct kipsec_replay *r, u64 seq)
{
	int err = replay_feed(r, seq, false);

	return err == -EINVAL || (r->esn && err == -ERANGE);
}

/* Is every number in (@from, @to) accepted by the check, but for @seen? */
static bool replay_open(struct kipsec_replay *r, u64 from, u64 to, u64 seen)
{
	u64 s;

	for (s = from + 1; s < to; s++)
		if (replay_feed(r, s, false) != (s == seen ? -EINVAL : 0))
			return false;
	return true;
}

/*
 * Receive 1..3W after @base skipping every third number, deliver the
 * skipped ones late, then check every number at and around the edge and
 * after jumps of just over one window, half a window and many rings.
 */
static bool replay_sweep(u32 size, bool esn, u64 base)
{
	struct kipsec_replay *r;
	struct replay_owner *o;
	u64 top = base, s;
	bool ok = false;
	u32 i;

	o = replay_alloc(size);
	if (!o)
		return false;
	r = &o->r;
	if (kipsec_replay_init(r, size, esn, base))
		goto out;

	for (i = 1; i <= 3 * size; i++) {
		if (i % 3 == 0)
			continue;
		if (replay_feed(r, base + i, true))
			goto out;
		top = base + i;
	}
	for (s = top - size + 1; s <= top; s++) {
		bool late = (u32)(s - base) % 3 == 0;

		if (replay_feed(r, s, true) != (late ? 0 : -EINVAL))
			goto out;
	}
	if (!replay_too_old(r, top - size))
		goto out;
	for (s = top - size + 1; s <= top; s++)
		if (replay_feed(r, s, false) != -EINVAL)
			goto out;

	s = top + size + 1;
	if (replay_feed(r, s, true) || !replay_too_old(r, top) ||
	    !replay_too_old(r, s - size) || !replay_open(r, s - size, s, 0))
		goto out;
	top = s;

	s = top + size / 2;
	if (s != top && (replay_feed(r, s, true) ||
			 !replay_open(r, s - size, s, top)))
		goto out;
	top = s;

	s = top + 100 * size + 7;
	if (replay_feed(r, s, true) || !replay_open(r, s - size, s, 0) ||
	    kipsec_replay_last(r) != s)
		goto out;
	ok = true;
out:
	if (!ok)
		pr_err("replay self-test: sweep of window %u (ESN %d) failed\n",
		       size, esn);
	kfree(o);
	return ok;
}

/* A model with one flag per number, in a ring larger than any window. */
#define MODEL_SLOTS	(2 * KIPSEC_REPLAY_MAX)

struct replay_model {
	u64 top;
	u32 size;
	u8 seen[MODEL_SLOTS];
};

static bool model_accepts(const struct replay_model *m, u64 seq)
{
	if (!m->size || seq > m->top)
		return true;
	return seq && m->top - seq < m->size && !m->seen[seq % MODEL_SLOTS];
}

static void model_record(struct replay_model *m, u64 seq)
{
	u64 s;

	if (seq > m->top) {
		if (seq - m->top >= MODEL_SLOTS)
			memset(m->seen, 0, sizeof(m->seen));
		else
			for (s = m->top + 1; s <= seq; s++)
				m->seen[s % MODEL_SLOTS] = 0;
		m->top = seq;
	}
	m->seen[seq % MODEL_SLOTS] = 1;
}

static u64 replay_rand(u64 *state)
{
	/* xorshift64: deterministic, so a failure can be replayed */
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static u64 replay_candidate(u64 *rnd, u64 top, u32 size, bool esn)
{
	u64 v = replay_rand(rnd);
	u32 w = size ? size : 64;
	u64 back;

	/* 32-bit operands: no 64-bit division on 32-bit hosts */
	switch ((u32)v % 20) {
	case 0:
		/* far ahead; with ESN across one or more blocks of 2^32 */
		return top + 1 + (u32)(v >> 32) % (esn ? 0x7fffffffU :
						   3 * MODEL_SLOTS);
	case 1 ... 2:
		return top + w + (u32)(v >> 32) % (2 * w);
	case 3 ... 10:
		return top + 1 + (u32)(v >> 32) % (w / 4 + 1);
	default:
		/* at and around the window, and behind it */
		back = (u32)(v >> 32) % (2 * w + 2);
		return back < top ? top - back : top + 1;
	}
}

/*
 * Random walk compared with the model. With ESN a number is inferred as
 * itself exactly when it lies in [top - size + 1, top - size + 2^32];
 * below that it must be refused or read as a number ahead of the window
 * (whose ICV would then fail).
 */
static bool replay_random(u32 size, bool esn, u64 start, u64 seed)
{
	struct replay_model *m;
	struct replay_owner *o;
	bool ok = false;
	unsigned int i;
	u64 rnd = seed;

	o = replay_alloc(size);
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!o || !m)
		goto out;
	if (kipsec_replay_init(&o->r, size, esn, 0))
		goto out;
	/* a restored SA marks everything below as seen: start fresh instead */
	o->r.top = start;
	m->top = start;
	m->size = size;

	for (i = 0; i < KIPSEC_REPLAY_RANDOM_STEPS; i++) {
		u64 cand = replay_candidate(&rnd, m->top, size, esn);
		bool exact = true, want;
		u64 got = 0;
		int err;

		if (!esn && cand > U32_MAX)
			cand = m->top + 1 > U32_MAX ? U32_MAX : m->top + 1;
		if (esn && m->top >= size && cand < m->top - size + 1)
			exact = false;
		if (esn && cand - (m->top - size + 1) >= (1ULL << 32))
			exact = false;

		err = kipsec_replay_check(&o->r,
					  cpu_to_be32(lower_32_bits(cand)),
					  &got);
		if (!exact) {
			if (!err && got <= m->top)
				goto fail;
			continue;
		}
		want = model_accepts(m, cand);
		if (want != !err || (!err && got != cand))
			goto fail;
		if (err)
			continue;
		if (kipsec_replay_advance(&o->r, cand))
			goto fail;
		model_record(m, cand);
		if ((replay_rand(&rnd) & 7) == 0 &&
		    kipsec_replay_advance(&o->r, cand) != (size ? -EINVAL : 0))
			goto fail;
		if (o->r.top != m->top)
			goto fail;
		continue;
fail:
		pr_err("replay self-test: random walk, window %u ESN %d seed %llu, step %u: 0x%llx (top 0x%llx) got %d/0x%llx\n",
		       size, esn, seed, i, cand, m->top, err, got);
		goto out;
	}
	ok = true;
out:
	kfree(m);
	kfree(o);
	return ok;
}

static bool replay_init_refusals(void)
{
	struct replay_owner *o = replay_alloc(KIPSEC_REPLAY_MAX);
	bool ok;

	if (!o)
		return false;
	ok = kipsec_replay_init(&o->r, KIPSEC_REPLAY_MAX + 1, false, 0) ==
		-EINVAL &&
	     kipsec_replay_init(&o->r, 0, true, 0) == -EINVAL &&
	     kipsec_replay_init(&o->r, 32, false, 1ULL << 32) == -EINVAL &&
	     !kipsec_replay_init(&o->r, 32, true, 1ULL << 32) &&
	     !kipsec_replay_init(&o->r, KIPSEC_REPLAY_MAX, true, U64_MAX) &&
	     kipsec_replay_blocks(0) == 0 && kipsec_replay_blocks(1) == 1 &&
	     kipsec_replay_bmp_size(KIPSEC_REPLAY_MAX) <= 1024;
	if (!ok)
		pr_err("replay self-test: init refusals failed\n");
	kfree(o);
	return ok;
}

struct seq_case {
	bool esn;
	u64 start;
	int err[3];
	u64 out[3];
};

static const struct seq_case seq_cases[] = {
	{ false, 0, { 0, 0, 0 }, { 1, 2, 3 } },
	{ false, U32_MAX - 1, { 0, -EOVERFLOW, -EOVERFLOW }, { U32_MAX } },
	{ true, U32_MAX - 1, { 0, 0, 0 },
	  { U32_MAX, 1ULL << 32, (1ULL << 32) + 1 } },
	{ true, U64_MAX - 1, { 0, -EOVERFLOW, -EOVERFLOW }, { U64_MAX } },
};

static bool seq_selftest(void)
{
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(seq_cases); i++) {
		const struct seq_case *c = &seq_cases[i];
		atomic64_t seq;
		u64 last = c->start;

		atomic64_set(&seq, c->start);
		for (j = 0; j < ARRAY_SIZE(c->err); j++) {
			u64 out = 0;
			int err = kipsec_seq_next(&seq, c->esn, &out);

			if (err != c->err[j] || (!err && out != c->out[j]))
				goto fail;
			if (!err)
				last = out;
			/* an exhausted counter stays on the last number sent */
			if ((u64)atomic64_read(&seq) != last)
				goto fail;
		}
		continue;
fail:
		pr_err("replay self-test: outbound case %u, call %u failed\n",
		       i, j);
		return false;
	}
	return true;
}

/**
 * kipsec_replay_selftest() - run the sequence number self-tests
 *
 * Return: true if they all pass; failures are logged.
 */
bool __init kipsec_replay_selftest(void)
{
	static const u32 sizes[] = { 1, 32, 64, 100, 1024, 4096 };
	bool ok = replay_init_refusals() && seq_selftest();
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(replay_cases); i++)
		ok = replay_run_case(&replay_cases[i]) && ok;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ok = replay_sweep(sizes[i], false, 0) && ok;
		ok = replay_sweep(sizes[i], false, 1000) && ok;
		/* crosses 2^32 half way through the received numbers */
		ok = replay_sweep(sizes[i], true,
				  (1ULL << 32) - 3 * sizes[i] / 2) && ok;
		ok = replay_random(sizes[i], false, 0, 0x9e3779b97f4a7c15ULL + i) &&
		     ok;
		ok = replay_random(sizes[i], true, (1ULL << 32) - 3000,
				   0x2545f4914f6cdd1dULL + i) && ok;
	}
	ok = replay_random(0, false, 0, 42) && ok;

	if (ok)
		pr_info("replay self-tests: pass\n");
	return ok;
}
