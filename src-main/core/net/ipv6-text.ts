// An IPv6 address written the one way people and Node write it (RFC 5952): lower-case hex groups
// without leading zeros, the longest run of two or more zero groups as "::" (the first such run
// when two are as long). Shared by every place that builds an address from its 16-bit groups.

/** `groups`: the eight 16-bit groups, most significant first. */
export function formatIpv6Groups(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
