/*
 * bcryptprimitives.dll for Wine 8 (Debian 12), which lacks it.
 *
 * Go 1.24 and later take their random numbers from ProcessPrng in
 * bcryptprimitives.dll, a DLL that Windows 10 and later ship; Wine added
 * it after version 8. This stand-in answers ProcessPrng from BCryptGenRandom,
 * which Wine 8 does have, so that Windows builds of kubemint, its tests and
 * kubectl run under Wine in the end-to-end suite. It is built there with
 * mingw-w64 and copied into the test's own Wine prefix; it is never shipped.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
