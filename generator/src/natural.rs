//! Natural order of machine names: `cp-2` before `cp-10`. Kubespray treats the first host of
//! `kube_control_plane` and of `etcd` specially (docs/operations/nodes.md, "Adding/Removal of
//! first `kube_control_plane` and etcd-master"), so every list of machines the generator writes
//! or reads positions from uses this order, never plain string order.

use std::cmp::Ordering;

/// Compares runs of ASCII digits by their value and everything else character by character.
pub fn cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (na, ra) = split_digits(a);
                let (nb, rb) = split_digits(b);
                let (ta, tb) = (trim_zeros(na), trim_zeros(nb));
                let by_value = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                // Equal values: the shorter spelling ("2" before "02") keeps the order total.
                match by_value.then_with(|| na.len().cmp(&nb.len())) {
                    Ordering::Equal => (a, b) = (ra, rb),
                    other => return other,
                }
            }
            (Some(x), Some(y)) => match x.cmp(y) {
                Ordering::Equal => (a, b) = (&a[1..], &b[1..]),
                other => return other,
            },
        }
    }
}

/// Sorts names in natural order.
pub fn sort<S: AsRef<str>>(names: &mut [S]) {
    names.sort_by(|a, b| cmp(a.as_ref(), b.as_ref()));
}

fn split_digits(s: &[u8]) -> (&[u8], &[u8]) {
    let end = s
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(s.len());
    s.split_at(end)
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let start = digits
        .iter()
        .position(|&c| c != b'0')
        .unwrap_or(digits.len());
    &digits[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value() {
        let mut names = vec!["cp-10", "cp-2", "cp-1", "worker-1", "cp-02", "cp-9"];
        sort(&mut names);
        assert_eq!(
            names,
            ["cp-1", "cp-2", "cp-02", "cp-9", "cp-10", "worker-1"]
        );
        assert_eq!(cmp("a", "a"), Ordering::Equal);
        assert_eq!(cmp("a-1-b", "a-1-c"), Ordering::Less);
        assert_eq!(cmp("a-99999999999999999999999", "a-1"), Ordering::Greater);
        assert_eq!(cmp("a", "a-1"), Ordering::Less);
    }
}
