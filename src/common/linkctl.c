/* Link impairment settings: the control file's seqlock, and the one
 * parser and formatter of their KEY=VALUE words. See linkctl.h. */
#include "common/linkctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define RELAXED __ATOMIC_RELAXED

bool linkctl_check(const struct link_imp *imp)
{
	return imp->delay_us <= LINKCTL_DELAY_MAX_US && imp->jitter_us <= LINKCTL_DELAY_MAX_US &&
	       imp->loss_ppm <= LINKCTL_PPM && imp->loss_corr_ppm <= LINKCTL_PPM &&
	       imp->corrupt_ppm <= LINKCTL_PPM && imp->duplicate_ppm <= LINKCTL_PPM &&
	       (imp->rate_bps == 0 || (imp->rate_bps >= LINKCTL_RATE_MIN && imp->rate_bps <= LINKCTL_RATE_MAX)) &&
	       imp->dist <= LINKCTL_NORMAL && imp->down <= 1;
}

bool linkctl_read(const struct linkctl *c, struct linkctl *out)
{
	uint32_t g1 = __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE), g2;

	if ((g1 & 1) || __atomic_load_n(&c->magic, RELAXED) != LINKCTL_MAGIC ||
	    __atomic_load_n(&c->version, RELAXED) != LINKCTL_VERSION)
		return false;
	memcpy(out, c, sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	g2 = __atomic_load_n(&c->gen, RELAXED);
	out->gen = g1;
	return g1 == g2;
}

void linkctl_write_begin(struct linkctl *c)
{
	__atomic_store_n(&c->gen, c->gen | 1, RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

void linkctl_write_end(struct linkctl *c)
{
	__atomic_store_n(&c->gen, (c->gen | 1) + 1, __ATOMIC_RELEASE);
}

/* A decimal with at most `frac` digits after its point, scaled by
 * 10^frac: "1.25" with frac 3 is 1250. No sign, no spaces, no exponent.
 * *end: what follows. false: not such a number, or too big. */
static bool decimal(const char *s, unsigned frac, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	unsigned digits = 0, f = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (v > UINT64_MAX / 100)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, f++) {
			if (f == frac)
				return false;	/* more precision than we keep */
			v = v * 10 + (uint64_t)(*s - '0');
			digits++;
		}
	}
	if (!digits || v > UINT64_MAX / 1000000000ull)
		return false;
	for (; f < frac; f++)
		v *= 10;
	*out = v;
	*end = s;
	return true;
}

static int fail(char *err, size_t errlen, const char *key, const char *value, const char *why)
{
	snprintf(err, errlen, "%s=%s: %s", key, value, why);
	return -1;
}

/* 20ms, 1.5ms, 500us, 2s: microseconds, at most LINKCTL_DELAY_MAX_US. */
static bool duration(const char *s, uint32_t *us)
{
	static const struct { const char *unit; uint64_t scale; } units[] = {
		{ "us", 1 }, { "ms", 1000 }, { "s", 1000000 },
	};
	const char *end;
	uint64_t v;
	unsigned i;

	if (!decimal(s, 3, &v, &end))
		return false;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0) {
			v = v * units[i].scale / 1000;	/* three decimals kept */
			if (v > LINKCTL_DELAY_MAX_US)
				return false;
			*us = (uint32_t)v;
			return true;
		}
	return false;
}

/* 1%, 0.25%, 100%: parts per million. */
static bool percent(const char *s, uint32_t *ppm)
{
	const char *end;
	uint64_t v;

	if (!decimal(s, 4, &v, &end) || strcmp(end, "%") != 0 || v > LINKCTL_PPM)
		return false;
	*ppm = (uint32_t)v;
	return true;
}

/* 100mbit, 1.5gbit, 64kbit, 9600bit, 0: bits per second. */
static bool rate(const char *s, uint64_t *bps)
{
	static const struct { const char *unit; uint64_t scale; } units[] = {
		{ "bit", 1 }, { "kbit", 1000 }, { "mbit", 1000000 }, { "gbit", 1000000000 },
	};
	const char *end;
	uint64_t v;
	unsigned i;

	if (strcmp(s, "0") == 0) {
		*bps = 0;
		return true;
	}
	if (!decimal(s, 3, &v, &end))
		return false;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0) {
			if (v > LINKCTL_RATE_MAX * 1000 / units[i].scale)
				return false;
			v = v * units[i].scale / 1000;
			if (v < LINKCTL_RATE_MIN || v > LINKCTL_RATE_MAX)
				return false;
			*bps = v;
			return true;
		}
	return false;
}

int linkctl_set(struct link_imp *imp, const char *key, const char *value, char *err, size_t errlen)
{
	if (!strcmp(key, "delay") || !strcmp(key, "jitter")) {
		if (!duration(value, !strcmp(key, "delay") ? &imp->delay_us : &imp->jitter_us))
			return fail(err, errlen, key, value, "not a time from 0 to 10 s (e.g. 20ms, 500us, 1.5s)");
	} else if (!strcmp(key, "distribution")) {
		if (strcmp(value, "uniform") && strcmp(value, "normal"))
			return fail(err, errlen, key, value, "not uniform or normal");
		imp->dist = strcmp(value, "normal") == 0 ? LINKCTL_NORMAL : LINKCTL_UNIFORM;
	} else if (!strcmp(key, "loss") || !strcmp(key, "loss_correlation") || !strcmp(key, "corrupt") ||
		   !strcmp(key, "duplicate")) {
		uint32_t *p = !strcmp(key, "loss") ? &imp->loss_ppm
			      : !strcmp(key, "loss_correlation") ? &imp->loss_corr_ppm
			      : !strcmp(key, "corrupt") ? &imp->corrupt_ppm : &imp->duplicate_ppm;

		if (!percent(value, p))
			return fail(err, errlen, key, value, "not a percentage from 0% to 100% (e.g. 1%, 0.25%)");
	} else if (!strcmp(key, "rate")) {
		if (!rate(value, &imp->rate_bps))
			return fail(err, errlen, key, value,
				    "not a rate from 1kbit to 100gbit, or 0 for none (units bit kbit mbit gbit)");
	} else if (!strcmp(key, "seed")) {
		const char *end;
		uint64_t v;

		if (strchr(value, '.') || !decimal(value, 0, &v, &end) || *end || v > UINT32_MAX)
			return fail(err, errlen, key, value, "not a whole number from 0 to 4294967295");
		imp->seed = (uint32_t)v;
	} else if (!strcmp(key, "state")) {
		if (strcmp(value, "up") && strcmp(value, "down"))
			return fail(err, errlen, key, value, "not up or down");
		imp->down = strcmp(value, "down") == 0;
	} else {
		snprintf(err, errlen, "%s: unknown setting (delay, jitter, distribution, loss, loss_correlation, "
			 "corrupt, duplicate, rate, state, seed)", key);
		return -1;
	}
	return 0;
}

/* Appends " KEY=VALUE". */
static void add(char *out, size_t len, const char *key, const char *fmt, unsigned long long v, unsigned long long f)
{
	size_t used = strlen(out);

	if (used < len)
		snprintf(out + used, len - used, fmt, used ? " " : "", key, v, f);
}

static void time_word(char *out, size_t len, const char *key, uint32_t us)
{
	if (us % 1000000 == 0)
		add(out, len, key, "%s%s=%llus", us / 1000000, 0);
	else if (us % 1000 == 0)
		add(out, len, key, "%s%s=%llums", us / 1000, 0);
	else
		add(out, len, key, "%s%s=%lluus", us, 0);
}

static void pct_word(char *out, size_t len, const char *key, uint32_t ppm)
{
	unsigned f = ppm % 10000, digits = 4;

	if (!f) {
		add(out, len, key, "%s%s=%llu%%", ppm / 10000, 0);
		return;
	}
	for (; f % 10 == 0; f /= 10)	/* 0.5%, not 0.5000% */
		digits--;
	add(out, len, key, digits == 1 ? "%s%s=%llu.%01llu%%" : digits == 2 ? "%s%s=%llu.%02llu%%"
			  : digits == 3 ? "%s%s=%llu.%03llu%%" : "%s%s=%llu.%04llu%%", ppm / 10000, f);
}

void linkctl_format(const struct link_imp *imp, char *out, size_t len)
{
	static const struct { const char *unit; uint64_t scale; } units[] = {
		{ "gbit", 1000000000 }, { "mbit", 1000000 }, { "kbit", 1000 }, { "bit", 1 },
	};
	unsigned i;

	if (!len)
		return;
	out[0] = 0;
	if (imp->down)
		add(out, len, "state", "%s%s=down", 0, 0);
	if (imp->delay_us)
		time_word(out, len, "delay", imp->delay_us);
	if (imp->jitter_us) {
		time_word(out, len, "jitter", imp->jitter_us);
		if (imp->dist == LINKCTL_NORMAL)
			add(out, len, "distribution", "%s%s=normal", 0, 0);
	}
	if (imp->loss_ppm)
		pct_word(out, len, "loss", imp->loss_ppm);
	if (imp->loss_corr_ppm)
		pct_word(out, len, "loss_correlation", imp->loss_corr_ppm);
	if (imp->corrupt_ppm)
		pct_word(out, len, "corrupt", imp->corrupt_ppm);
	if (imp->duplicate_ppm)
		pct_word(out, len, "duplicate", imp->duplicate_ppm);
	for (i = 0; imp->rate_bps && i < sizeof(units) / sizeof(units[0]); i++)
		if (imp->rate_bps % units[i].scale == 0) {
			char f[32];

			snprintf(f, sizeof(f), "%%s%%s=%%llu%s", units[i].unit);
			add(out, len, "rate", f, imp->rate_bps / units[i].scale, 0);
			break;
		}
	if (imp->seed)
		add(out, len, "seed", "%s%s=%llu", imp->seed, 0);
}
