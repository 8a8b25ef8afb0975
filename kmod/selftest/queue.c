// SPDX-License-Identifier: GPL-2.0
/*
 * Self-tests of an SA queue's home CPU and of its spread decision;
 * included at the end of queue.c in the debug build. They drive
 * squeue_enter() with the CPU, the jiffy and the clock given, so they
 * run the same on a guest with one vCPU (make check's) as with many: the
 * first packet, the idle rule, the sparse strays (and what breaks a run
 * of them: a packet at home, one close behind the last, a backlog, a
 * delivery under way) and the packet rate that makes an SA busy.
 */

#define QT_CHECK(cond, what)	KIPSEC_ST_CHECK(ok, "queue", cond, what)

/* Far from 0, so that a wrong subtraction would not look like a gap. */
#define QT_NS0	(1000 * NSEC_PER_SEC)

static u64 qt_ns;

static u64 qt_clock(void)
{
	return qt_ns;
}

/*
 * One packet of @sq on @cpu at jiffy @now, the clock reading @ns. It
 * stays queued if @keep (the next packets find it pending), else it is
 * taken off at once, as if delivered. Returns squeue_enter()'s answer.
 */
static bool qt_enter(struct kipsec_squeue *sq, struct sk_buff *skb, int cpu,
		     unsigned long now, u64 ns, bool keep)
{
	bool spread;

	qt_ns = ns;
	spread = squeue_enter(sq, skb, cpu, now, qt_clock);
	if (!keep)
		__skb_unlink(skb, &sq->q);
	return spread;
}

/*
 * @n sparse strays on @cpu from jiffy *@now and clock *@ns on, each two
 * jiffies and a gap after the one before (neither busy nor idle); both
 * advance past the last.
 */
static void qt_strays(struct kipsec_squeue *sq, struct sk_buff *skb,
		      int cpu, unsigned int n, unsigned long *now, u64 *ns)
{
	while (n--) {
		qt_enter(sq, skb, cpu, *now, *ns, false);
		*now += 2;
		*ns += KIPSEC_STRAY_GAP_NS;
	}
}

/**
 * kipsec_queue_selftest() - run the SA queue self-tests
 *
 * Return: true if every test passed.
 */
bool kipsec_queue_selftest(void)
{
	unsigned int busy = DIV_ROUND_UP(KIPSEC_SPREAD_RATE, HZ);
	static struct kipsec_squeue sq;
	static struct sk_buff skbs[2];
	unsigned long now = jiffies;
	u64 ns = QT_NS0;
	bool ok = true;
	unsigned int i;

	kipsec_squeue_init(&sq, &kipsec_qops_out);

	/* The first packet makes its CPU the home; alone, it stays there. */
	QT_CHECK(!qt_enter(&sq, &skbs[0], 1, now, ns, false),
		 "a quiet SA's lone packet is not spread");
	QT_CHECK(sq.cpu == 1, "the first packet's CPU is home");
	now += 2;

	/* Sparse strays: the last of a run moves the home, not before. */
	qt_strays(&sq, &skbs[0], 0, KIPSEC_REHOME_STRAYS - 1, &now, &ns);
	QT_CHECK(sq.cpu == 1, "fewer strays than a run keep the home");
	qt_strays(&sq, &skbs[0], 0, 1, &now, &ns);
	QT_CHECK(sq.cpu == 0, "a run of sparse strays moves the home");
	QT_CHECK(!sq.strays, "a move starts a new count");

	/* One close behind the one before starts the run again. */
	qt_strays(&sq, &skbs[0], 1, 1, &now, &ns);
	ns -= KIPSEC_STRAY_GAP_NS - 1;
	qt_strays(&sq, &skbs[0], 1, 1, &now, &ns);
	qt_strays(&sq, &skbs[0], 1, KIPSEC_REHOME_STRAYS - 2, &now, &ns);
	QT_CHECK(sq.cpu == 0, "a stray close behind the last restarts the run");
	qt_strays(&sq, &skbs[0], 1, 1, &now, &ns);
	QT_CHECK(sq.cpu == 1, "the restarted run moves the home at its end");

	/* A packet at home ends a run. */
	qt_strays(&sq, &skbs[0], 0, KIPSEC_REHOME_STRAYS - 1, &now, &ns);
	qt_strays(&sq, &skbs[0], 1, 1, &now, &ns);
	QT_CHECK(!sq.strays, "a packet at home ends a run");
	qt_strays(&sq, &skbs[0], 0, KIPSEC_REHOME_STRAYS - 1, &now, &ns);
	QT_CHECK(sq.cpu == 1, "a run broken at home starts again");

	/* So does a backlog: a packet of the SA still queued. */
	qt_enter(&sq, &skbs[1], 1, now, ns, true);
	now += 2;
	ns += KIPSEC_STRAY_GAP_NS;
	for (i = 0; i < KIPSEC_REHOME_STRAYS; i++) {
		QT_CHECK(qt_enter(&sq, &skbs[0], 0, now, ns, false),
			 "a packet behind a pending one is spread");
		now += 2;
		ns += KIPSEC_STRAY_GAP_NS;
	}
	QT_CHECK(sq.cpu == 1 && !sq.strays, "a backlog keeps the home");
	__skb_unlink(&skbs[1], &sq.q);

	/* And a delivery under way. */
	set_bit(0, &sq.running);
	qt_strays(&sq, &skbs[0], 0, KIPSEC_REHOME_STRAYS, &now, &ns);
	QT_CHECK(sq.cpu == 1 && !sq.strays,
		 "a delivery under way keeps the home");
	clear_bit(0, &sq.running);

	/* After a second of silence the first packet moves the home. */
	now += KIPSEC_REHOME_IDLE + 1;
	qt_enter(&sq, &skbs[0], 0, now, ns, false);
	QT_CHECK(sq.cpu == 0, "the first packet after an idle period is home");

	/*
	 * Busy: %KIPSEC_SPREAD_RATE packets a second, counted per jiffy;
	 * the jiffy after such a one still counts as busy, the next not.
	 */
	now += 2;
	for (i = 1; i <= busy; i++)
		QT_CHECK(qt_enter(&sq, &skbs[0], 0, now, ns, false) ==
			 (i == busy), "the busy rate spreads lone packets");
	QT_CHECK(qt_enter(&sq, &skbs[0], 0, now + 1, ns, false),
		 "the jiffy after a busy one spreads");
	QT_CHECK(busy < 2 ||
		 !qt_enter(&sq, &skbs[0], 0, now + 3, ns, false),
		 "a quiet jiffy does not spread");
	QT_CHECK(sq.cpu == 0, "a busy SA at home keeps it");

	/* Strays of a busy SA come close together: no move. */
	now += 5;
	ns += KIPSEC_STRAY_GAP_NS;
	for (i = 0; i < 2 * KIPSEC_REHOME_STRAYS; i++)
		qt_enter(&sq, &skbs[0], 1, now, ns + i * 1000, false);
	QT_CHECK(sq.cpu == 0, "a busy flow's strays keep the home");

	QT_CHECK(skb_queue_empty(&sq.q), "the queue is empty at the end");
	return ok;
}
