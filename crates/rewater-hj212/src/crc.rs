//! The HJ 212 checksum (HJ 212-2017 Appendix A, same in HJ/T 212-2005).
//!
//! It is not CRC-16/MODBUS: each byte is XORed into the *high* byte of the register, whose low
//! byte is dropped, then the register is shifted eight times with the reflected polynomial
//! 0xA001. Only 8 bits of state survive between bytes, so there are 256 possible values.

const fn table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut reg = i as u16;
        let mut k = 0;
        while k < 8 {
            let lsb = reg & 1;
            reg >>= 1;
            if lsb == 1 {
                reg ^= 0xA001;
            }
            k += 1;
        }
        t[i] = reg;
        i += 1;
    }
    t
}

static TABLE: [u16; 256] = table();

/// The state that survives a byte (the register's high byte) as a function of the index, and
/// its compositions: the map is linear over GF(2), so four bytes fold into four independent
/// lookups (slicing-by-4), which breaks the byte-to-byte dependency chain.
const fn sliced() -> [[u8; 256]; 4] {
    let t = table();
    let mut s = [[0u8; 256]; 4];
    let mut i = 0;
    while i < 256 {
        let a1 = (t[i] >> 8) as u8;
        let a2 = (t[a1 as usize] >> 8) as u8;
        let a3 = (t[a2 as usize] >> 8) as u8;
        let a4 = (t[a3 as usize] >> 8) as u8;
        s[0][i] = a1;
        s[1][i] = a2;
        s[2][i] = a3;
        s[3][i] = a4;
        i += 1;
    }
    s
}

static SLICED: [[u8; 256]; 4] = sliced();

/// The HJ 212 CRC of a data segment.
pub fn crc16(data: &[u8]) -> u16 {
    let Some((&last, body)) = data.split_last() else {
        return 0xFFFF;
    };
    let [a1, a2, a3, a4] = &SLICED;
    let mut s: u8 = 0xFF;
    let mut chunks = body.chunks_exact(4);
    for c in &mut chunks {
        s = a4[(s ^ c[0]) as usize] ^ a3[c[1] as usize] ^ a2[c[2] as usize] ^ a1[c[3] as usize];
    }
    for &b in chunks.remainder() {
        s = a1[(s ^ b) as usize];
    }
    TABLE[(s ^ last) as usize]
}

/// The bit-by-bit form of Appendix A, kept to check the table form.
pub fn crc16_bitwise(data: &[u8]) -> u16 {
    let mut reg: u16 = 0xFFFF;
    for &b in data {
        reg = (reg >> 8) ^ b as u16;
        for _ in 0..8 {
            let lsb = reg & 1;
            reg >>= 1;
            if lsb == 1 {
                reg ^= 0xA001;
            }
        }
    }
    reg
}

/// CRC-16/MODBUS, for recognising loggers that send it (printed low byte first) by mistake.
pub fn crc16_modbus(data: &[u8]) -> u16 {
    let mut reg: u16 = 0xFFFF;
    for &b in data {
        reg ^= b as u16;
        for _ in 0..8 {
            let lsb = reg & 1;
            reg >>= 1;
            if lsb == 1 {
                reg ^= 0xA001;
            }
        }
    }
    reg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appendix_a_vectors() {
        // HJ 212-2017 Appendix A (the prose misprints 1C08; the value is 1C80).
        let seg = b"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&";
        assert_eq!(crc16(seg), 0x1C80);
        assert_eq!(crc16(b""), 0xFFFF);
        assert_eq!(crc16(b"A"), 0x7080);
        assert_eq!(crc16(b"123456789"), 0x2F80);
        assert_eq!(crc16_modbus(b"123456789"), 0x4B37);
    }

    #[test]
    fn table_equals_bitwise_and_has_256_values() {
        let mut seen = std::collections::HashSet::new();
        let mut x: u64 = 1;
        for len in 0..2000usize {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let data: Vec<u8> = (0..1 + len % 97).map(|i| (x >> (i % 56)) as u8).collect();
            let c = crc16(&data);
            assert_eq!(c, crc16_bitwise(&data));
            // Low byte is one of 00/40/80/C0/01/41/81/C1.
            assert!(
                matches!(
                    c & 0xFF,
                    0x00 | 0x40 | 0x80 | 0xC0 | 0x01 | 0x41 | 0x81 | 0xC1
                ),
                "{c:04X}"
            );
            seen.insert(c);
        }
        assert!(seen.len() <= 256);
    }
}
