// crypto.x509.* and crypto.parse_private_keys, called directly through a
// local registry. The certificates, CSR and keys below were made once with
// the openssl CLI (EC P-256 root -> intermediate with name constraints ->
// leaf with every SAN type, AIA, CRL DP and policies; RSA, RSA-PSS, Ed25519
// and v1 certificates) and are valid from 2026-11-30 for ten years or more.
// Expected values are Go's x509.Certificate JSON as OPA returns it.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "rego/builtins/builtins.h"

namespace confidant::rego {
void register_x509(BuiltinRegistry& r);
}

using namespace confidant::rego;

namespace {

// clang-format off
const char* kRoot = R"(-----BEGIN CERTIFICATE-----
MIIBqDCCAU6gAwIBAgIBATAKBggqhkjOPQQDAjA6MRcwFQYDVQQKDA5Db25maWRh
bnQgVGVzdDEfMB0GA1UEAwwWQ29uZmlkYW50IFRlc3QgUm9vdCBDQTAeFw0yNjEx
MzAxMzI5MTZaFw00NjExMjUxMzI5MTZaMDoxFzAVBgNVBAoMDkNvbmZpZGFudCBU
ZXN0MR8wHQYDVQQDDBZDb25maWRhbnQgVGVzdCBSb290IENBMFkwEwYHKoZIzj0C
AQYIKoZIzj0DAQcDQgAEDcnhYoHb2QRawWRcE69+MNFCpADOl+NJKozLIlCINVsr
F1gV5Gna7rhqcfszENbpeHwiiXN5MyyyHrkPCCPRRaNFMEMwEgYDVR0TAQH/BAgw
BgEB/wIBATAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFLqB4ASNcBPlcbxQWq5e
r1fyu5U5MAoGCCqGSM49BAMCA0gAMEUCIQC9sPXM0cjYMD2sFBgMbygKZ0AZ12LG
VYFTb+kkYtqrFwIgVtpMqXbPzDj3KTAcj130IqJgPSHSyZTd7iii74s4wUk=
-----END CERTIFICATE-----
)";
const char* kInter = R"(-----BEGIN CERTIFICATE-----
MIICVzCCAf2gAwIBAgIBAjAKBggqhkjOPQQDAjA6MRcwFQYDVQQKDA5Db25maWRh
bnQgVGVzdDEfMB0GA1UEAwwWQ29uZmlkYW50IFRlc3QgUm9vdCBDQTAeFw0yNjEx
MzAxMzI5MTZaFw00NjAxMjkxMzI5MTZaMEIxFzAVBgNVBAoMDkNvbmZpZGFudCBU
ZXN0MScwJQYDVQQDDB5Db25maWRhbnQgVGVzdCBJbnRlcm1lZGlhdGUgQ0EwWTAT
BgcqhkjOPQIBBggqhkjOPQMBBwNCAASFibi+dR0KtMrYle7+mTudL1CJ8z8LP4qN
7TeJ2XjtHhWQQd4fBLQ4vGoYbhKkcfWZHN/d9OGbuQFyJ/DIzVNto4HrMIHoMBIG
A1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBTuOPcp
2aPmNn1DpYNoMe+uJZsA/TAfBgNVHSMEGDAWgBS6geAEjXAT5XG8UFquXq9X8ruV
OTCBgQYDVR0eAQH/BHcwdaBeMA2CC2V4YW1wbGUuY29tMAqHCAoAAAD/AAAAMA6G
DC5leGFtcGxlLmNvbTAihyAgAQ24AAAAAAAAAAAAAAAA/////wAAAAAAAAAAAAAA
ADANgQtleGFtcGxlLmNvbaETMBGBD2JhZC5leGFtcGxlLmNvbTAKBggqhkjOPQQD
AgNIADBFAiBuxR9ZzKb9nAm6h0pOBbxmTsbQkE70ObuH5Ic5jkIDiQIhAMpzsEDY
zEB6r/zH293y/puP3qlScHV1AziETsmJaZkJ
-----END CERTIFICATE-----
)";
const char* kLeaf = R"(-----BEGIN CERTIFICATE-----
MIIDezCCAyKgAwIBAgINASNFZ4mrze8BI0VniTAKBggqhkjOPQQDAjBCMRcwFQYD
VQQKDA5Db25maWRhbnQgVGVzdDEnMCUGA1UEAwweQ29uZmlkYW50IFRlc3QgSW50
ZXJtZWRpYXRlIENBMB4XDTI2MTEzMDEzMjkxN1oXDTM2MTEyNzEzMjkxN1owgZIx
CzAJBgNVBAYTAlVTMRMwEQYDVQQIDApDYWxpZm9ybmlhMRYwFAYDVQQHDA1TYW4g
RnJhbmNpc2NvMRIwEAYDVQQKDAlDb25maWRhbnQxDDAKBgNVBAsMA0VuZzEMMAoG
A1UECwwDU2VjMRkwFwYDVQQDDBBsZWFmLmV4YW1wbGUuY29tMQswCQYDVQQFEwI0
MjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABG0XiK4jsHds+0Xy9nn/EsSoYqcN
ye3cxHsGeXDeCgk5GfYfvE9ZvJwPhNmGn/dE1HCdz1EaDJ3XAbRoArUIwPyjggGq
MIIBpjAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIFoDAZBgNVHSUEEjAQBggr
BgEFBQcDAQYEKgMEBTAdBgNVHQ4EFgQUly2C8ehXuBJvFFRHWSA7cohZUsIwHwYD
VR0jBBgwFoAU7jj3Kdmj5jZ9Q6WDaDHvriWbAP0wdAYDVR0RBG0wa4IQbGVhZi5l
eGFtcGxlLmNvbYISKi53aWxkLmV4YW1wbGUuY29tgQ1hQGV4YW1wbGUuY29thwQK
AAABhxAgAQ24AAAAAAAAAAAAAAABhhxzcGlmZmU6Ly9zdmMuZXhhbXBsZS5jb20v
b3BhMGAGCCsGAQUFBwEBBFQwUjAjBggrBgEFBQcwAYYXaHR0cDovL29jc3AuZXhh
bXBsZS5jb20wKwYIKwYBBQUHMAKGH2h0dHA6Ly9jYS5leGFtcGxlLmNvbS9pbnRl
ci5jcnQwMQYDVR0fBCowKDAmoCSgIoYgaHR0cDovL2NybC5leGFtcGxlLmNvbS9p
bnRlci5jcmwwIAYDVR0gBBkwFzAIBgZngQwBAgEwCwYJKwYBBAGGjR8BMAoGCCqG
SM49BAMCA0cAMEQCIA3iaWhJY7lI+quXwnd4IDAQ9sBs1KtIRJLAx5UmB/y+AiBQ
mXzTYVk2w+Gcl9NDRq2aRSI4IIaS4Lq10JH3p9bhNA==
-----END CERTIFICATE-----
)";
const char* kClient = R"(-----BEGIN CERTIFICATE-----
MIIB0DCCAXagAwIBAgIBAzAKBggqhkjOPQQDAjBCMRcwFQYDVQQKDA5Db25maWRh
bnQgVGVzdDEnMCUGA1UEAwweQ29uZmlkYW50IFRlc3QgSW50ZXJtZWRpYXRlIENB
MB4XDTI2MTEzMDEzMjkxN1oXDTM2MTEyNzEzMjkxN1owHTEbMBkGA1UEAwwSY2xp
ZW50LmV4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEESwHQR9i
SI5Z/MOAuuRJ+B4SgZ//hCZZbCQpGwdLMLckF2Hkhv4riT2zwRuqiv98CTPu++BG
QH+3jphTAWFNPKOBgTB/MAkGA1UdEwQCMAAwEwYDVR0lBAwwCgYIKwYBBQUHAwIw
HQYDVR0RBBYwFIISY2xpZW50LmV4YW1wbGUuY29tMB0GA1UdDgQWBBT0fjpiOwMH
7NBXbK/r5ZYDRBKAojAfBgNVHSMEGDAWgBTuOPcp2aPmNn1DpYNoMe+uJZsA/TAK
BggqhkjOPQQDAgNIADBFAiB2+IT7h+ejg6Nk9zbQnAQk17Hba1tb5iGlDKK8k9/S
mwIhAPcix+UjdaWmcU5t7JYUIy3t7kOjfdLSssBg/yrwa70Z
-----END CERTIFICATE-----
)";
const char* kRsaCert = R"(-----BEGIN CERTIFICATE-----
MIIDAjCCAeqgAwIBAgIBBTANBgkqhkiG9w0BAQwFADAaMRgwFgYDVQQDDA9yc2Eu
ZXhhbXBsZS5jb20wHhcNMjYxMTMwMTMyOTE4WhcNMzYxMTI3MTMyOTE4WjAaMRgw
FgYDVQQDDA9yc2EuZXhhbXBsZS5jb20wggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAw
ggEKAoIBAQCbJQ0kYHkSiScl2JkEaTZyHBnowK9Rsc53oV6czjma8fdpCKMN2NZg
ynUEO2VfkUeuYsr6+q5t3Z4cLHM9QZInhT5I99ltp9RL7ZxTXsW/XJ/2ZGGMVetj
Gs2fPNFNamcgD1XR87JKRN/z3goDXF6ms6cC9SGMdj8UBIhTO0Yr5SrtAf93DmUI
uG75JiReUDz1Dt4uXsiLo7kHtsxbqq2rV+IE3S/Xd4JVzZaCGeLMiPSv/jVE/pvL
D83+Kz62JMlDRThEWrzb5uNVBitxqpNgdTBV8rEXsVc0W0jxUSWPyW+WH0ARdbRm
44a/P6OYi14zNQiMZLMAO1P2ZXkvl54VAgMBAAGjUzBRMB0GA1UdDgQWBBQUw4I/
yhQw4uQ6gBKklfiA1kgrYzAfBgNVHSMEGDAWgBQUw4I/yhQw4uQ6gBKklfiA1kgr
YzAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBDAUAA4IBAQBaJWZbcrKmFfwW
x/sauOW3GZ7S8VSPu8tvuP1PIVcE5PIZXd8LjhUsrmGPtiQAxCcC0isiyHmlNnk3
DWehAWn/W55SL0mbJ9Wse3p0ob+5Uulh/8Cyc2M2Acb4D1jnhpb0OsJYSEWqUBHP
X3cbfhMrtYKYa03FFK+TZBMuRCAQ/+raANrTvk+6xgk23pq4Zrb9BPzoKQdliNHP
iPJO15uXBwwBdJDMxfJUpsGS/Lx/cG63d3RFDzf57hU0G8xlfG7E9nHj6xgDmj1J
xdjOaMoKlf2CMGQhbiFXKqlwEIlywb2hKJDfGI7kxd3Kiqk4+5mwJqeZVM9W904a
7lU4EjwY
-----END CERTIFICATE-----
)";
const char* kPssCert = R"(-----BEGIN CERTIFICATE-----
MIIDajCCAh6gAwIBAgIBBjBBBgkqhkiG9w0BAQowNKAPMA0GCWCGSAFlAwQCAQUA
oRwwGgYJKoZIhvcNAQEIMA0GCWCGSAFlAwQCAQUAogMCASAwGjEYMBYGA1UEAwwP
cHNzLmV4YW1wbGUuY29tMB4XDTI2MTEzMDEzMjkxOFoXDTM2MTEyNzEzMjkxOFow
GjEYMBYGA1UEAwwPcHNzLmV4YW1wbGUuY29tMIIBIjANBgkqhkiG9w0BAQEFAAOC
AQ8AMIIBCgKCAQEAmyUNJGB5EoknJdiZBGk2chwZ6MCvUbHOd6FenM45mvH3aQij
DdjWYMp1BDtlX5FHrmLK+vqubd2eHCxzPUGSJ4U+SPfZbafUS+2cU17Fv1yf9mRh
jFXrYxrNnzzRTWpnIA9V0fOySkTf894KA1xeprOnAvUhjHY/FASIUztGK+Uq7QH/
dw5lCLhu+SYkXlA89Q7eLl7Ii6O5B7bMW6qtq1fiBN0v13eCVc2WghnizIj0r/41
RP6byw/N/is+tiTJQ0U4RFq82+bjVQYrcaqTYHUwVfKxF7FXNFtI8VElj8lvlh9A
EXW0ZuOGvz+jmIteMzUIjGSzADtT9mV5L5eeFQIDAQABo1MwUTAdBgNVHQ4EFgQU
FMOCP8oUMOLkOoASpJX4gNZIK2MwHwYDVR0jBBgwFoAUFMOCP8oUMOLkOoASpJX4
gNZIK2MwDwYDVR0TAQH/BAUwAwEB/zBBBgkqhkiG9w0BAQowNKAPMA0GCWCGSAFl
AwQCAQUAoRwwGgYJKoZIhvcNAQEIMA0GCWCGSAFlAwQCAQUAogMCASADggEBACib
UhnY8hkG5+iJhiIyf0janLSwndTq4JmDGlYcWCO2X3p+Un2osfdGf7dJ0K5gL6P8
1iFsimOYdIW6YxQRYHReCjfaUSh+uQSmLeOv9GgviSoki4mSfjtfx8kjSz6F2Cwq
jZFRzg/ZEgJzJ2VSlq+Ps7Wg9c2RQ542rCm3zXXpOHZLBIDbXfhhgUyfcUV96JzG
E+I9RcY1xG6oBK/LhDFq6z/Jk/GEhsxv0XqrBUoydQPuVZedcGcWAsJvRHScEbRf
/PFp4Y6RXDLyGPZc6UD5PFUNTVyhIWEpzp13lKj4cdDzLfMhZWd8xTHTBIW6qSDb
LOl3KcMlsTE+w2quQ8k=
-----END CERTIFICATE-----
)";
const char* kEdCert = R"(-----BEGIN CERTIFICATE-----
MIIBMzCB5qADAgECAgEHMAUGAytlcDAZMRcwFQYDVQQDDA5lZC5leGFtcGxlLmNv
bTAeFw0yNjExMzAxMzI5MThaFw0zNjExMjcxMzI5MThaMBkxFzAVBgNVBAMMDmVk
LmV4YW1wbGUuY29tMCowBQYDK2VwAyEAAe5MbpWR2fw5WQRLR9tf5iuXcUx7aK++
e73cyysbk52jUzBRMB0GA1UdDgQWBBQMKHXdKGzQRmNnnTDxllx3KKpu9DAfBgNV
HSMEGDAWgBQMKHXdKGzQRmNnnTDxllx3KKpu9DAPBgNVHRMBAf8EBTADAQH/MAUG
AytlcANBADr+BZYF/tErmQ4kC2Eebf6lWwvx3cz3swB5Iz+uhZyjKRhFpnsreHtf
lPo8NpqpAJMK0wnqzrCXzTuwkYhMYgw=
-----END CERTIFICATE-----
)";
const char* kV1Cert = R"(-----BEGIN CERTIFICATE-----
MIIBIjCByAIBCDAKBggqhkjOPQQDAjAdMRswGQYDVQQDDBJjbGllbnQuZXhhbXBs
ZS5jb20wHhcNMjYxMTMwMTMyOTE4WhcNMzYxMTI3MTMyOTE4WjAdMRswGQYDVQQD
DBJjbGllbnQuZXhhbXBsZS5jb20wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQR
LAdBH2JIjln8w4C65En4HhKBn/+EJllsJCkbB0swtyQXYeSG/iuJPbPBG6qK/3wJ
M+774EZAf7eOmFMBYU08MAoGCCqGSM49BAMCA0kAMEYCIQDlBJOUrPARFt6U6c9+
9+vcKsNoajwL8tOgaEMk3kXriQIhAIr58+LHkaXYb2gYNK891J1qvfZTQthvP/rT
A4NlwW+I
-----END CERTIFICATE-----
)";
const char* kCsr = R"(-----BEGIN CERTIFICATE REQUEST-----
MIIBZTCCAQsCAQAwLjEYMBYGA1UEAwwPY3NyLmV4YW1wbGUuY29tMRIwEAYDVQQK
DAlDb25maWRhbnQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARtF4iuI7B3bPtF
8vZ5/xLEqGKnDcnt3MR7Bnlw3goJORn2H7xPWbycD4TZhp/3RNRwnc9RGgyd1wG0
aAK1CMD8oHswFQYJKoZIhvcNAQkHMQgMBnMzY3JldDBiBgkqhkiG9w0BCQ4xVTBT
MEEGA1UdEQQ6MDiCD2Nzci5leGFtcGxlLmNvbYcEwKgBAYYfaHR0cHM6Ly91QGV4
YW1wbGUuY29tL2ElNDFiP3E9MTAOBgNVHQ8BAf8EBAMCB4AwCgYIKoZIzj0EAwID
SAAwRQIhAP51Mbprn0Vwh3KkLCBCpqNcjdTs2l4hQc+2rYkF6WM7AiAETQLve2s4
sW5lk5qyVfkNz4tuVjjPLiGYfoZIBKYhNA==
-----END CERTIFICATE REQUEST-----
)";
const char* kRsaPkcs1 = R"(-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEAmyUNJGB5EoknJdiZBGk2chwZ6MCvUbHOd6FenM45mvH3aQij
DdjWYMp1BDtlX5FHrmLK+vqubd2eHCxzPUGSJ4U+SPfZbafUS+2cU17Fv1yf9mRh
jFXrYxrNnzzRTWpnIA9V0fOySkTf894KA1xeprOnAvUhjHY/FASIUztGK+Uq7QH/
dw5lCLhu+SYkXlA89Q7eLl7Ii6O5B7bMW6qtq1fiBN0v13eCVc2WghnizIj0r/41
RP6byw/N/is+tiTJQ0U4RFq82+bjVQYrcaqTYHUwVfKxF7FXNFtI8VElj8lvlh9A
EXW0ZuOGvz+jmIteMzUIjGSzADtT9mV5L5eeFQIDAQABAoIBAA7USo6K0x/IsM9/
BddEWEItefODsW5RXM8WA1VhJ+Pt02x8eRtqeclMKMW0CLNLD2s1gbneKryRJZsD
S6uUACybYZH3cNa4p0PvrRTR9vxc1eRnAWT41HRHXFanaUkpTbykgps8HDNZpH9q
npHmKxzriJ/xftiud8aJzV8JSCKLUbugm7MVvOwejJFQb24XiFh76wK3S/95AKuS
tNDmf2zFjSjliF5rcXLnsT4nPSTjlYXuiAtAv79A+sJNrli+/CmW1UxJNpcofe7C
cB8BqzFyfTIZApFfq0qtqUAJn5gaMD47hWL7MvphTGvGcI073Jacm4PNW3k90McU
4FqtQgECgYEA0TI56sMf48vJwkxZrMDT85zaomH+NLI44GLRv8JVMlHulHTX3j6/
iadB+s3ApcjJBAJX4kjeCVoOVasLuToAoN/4VnLC2g7bmhjnJyqo6LEn10JMYExw
ncQXs8aeAZz+9gVE0+19Oj9s4t5CSrQ5DR6F/Wf4nG9E6Ds1NcqEGgECgYEAvdsC
9OPuqwJ+clKgPUbUNCzDFXMXU0IrUrsMsc8XdACuIr8aCZ8u62/cLmw1jKirMZBg
aYgf//mAe8wKUMzkB/92fThc2UDrKTnRRb+P4Agbx+du/t72HX85IkgzWC/6OU5U
59gjgvfKjEE8mIEUe3X1kHQbh0NAsgv512wpfBUCgYBncOR+lxlvtFcBgmtdJsQn
U8owPTBLsky5d2Or5FXoWecU9WnAdVqUoGXZtF+sGkp7dwUp2Uohaaxo4/kaD/o7
kkPjyz9aP7qKygGStl9rIB5JLHlDrMiK2mm19WIv/gd8c0KDYI1pfe9Dhw9UjSUg
vZUXpo+iGssB4jT/cjI8AQKBgAUoEah9GFpksvJ/9AI2DkVsgc/vVE7amTqiAfJC
Yayw6Anhjt98B1Y1r5FDNyEe46dw+G1lWRkmuaqjHBSdvAPLmHhGM59i+AAipeBz
F4FKNxby3jzl6WFbtz2LIHngs7civYOehzhjaojsrKyntNq1lXna7XR7CyLK2HpV
YbsRAoGAQAG/Z9yLDjZ1LcsX1fa8y/MA1jy0ID7FnzXEOWmvMq3FNnbQQ6y5xnBn
oSZ3Ac5SQTZV7Z7zyWPN8kUyIs7g7EwXLsVB7WrYjj3v0iDCeqpdCJYT68JVazhX
2uHngImQquSyzgFWJMbY4PkqAt9735BqQqiSo5cAJwrCobdqiVM=
-----END RSA PRIVATE KEY-----
)";
const char* kRsaPkcs8 = R"(-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCbJQ0kYHkSiScl
2JkEaTZyHBnowK9Rsc53oV6czjma8fdpCKMN2NZgynUEO2VfkUeuYsr6+q5t3Z4c
LHM9QZInhT5I99ltp9RL7ZxTXsW/XJ/2ZGGMVetjGs2fPNFNamcgD1XR87JKRN/z
3goDXF6ms6cC9SGMdj8UBIhTO0Yr5SrtAf93DmUIuG75JiReUDz1Dt4uXsiLo7kH
tsxbqq2rV+IE3S/Xd4JVzZaCGeLMiPSv/jVE/pvLD83+Kz62JMlDRThEWrzb5uNV
BitxqpNgdTBV8rEXsVc0W0jxUSWPyW+WH0ARdbRm44a/P6OYi14zNQiMZLMAO1P2
ZXkvl54VAgMBAAECggEADtRKjorTH8iwz38F10RYQi1584OxblFczxYDVWEn4+3T
bHx5G2p5yUwoxbQIs0sPazWBud4qvJElmwNLq5QALJthkfdw1rinQ++tFNH2/FzV
5GcBZPjUdEdcVqdpSSlNvKSCmzwcM1mkf2qekeYrHOuIn/F+2K53xonNXwlIIotR
u6CbsxW87B6MkVBvbheIWHvrArdL/3kAq5K00OZ/bMWNKOWIXmtxcuexPic9JOOV
he6IC0C/v0D6wk2uWL78KZbVTEk2lyh97sJwHwGrMXJ9MhkCkV+rSq2pQAmfmBow
PjuFYvsy+mFMa8ZwjTvclpybg81beT3QxxTgWq1CAQKBgQDRMjnqwx/jy8nCTFms
wNPznNqiYf40sjjgYtG/wlUyUe6UdNfePr+Jp0H6zcClyMkEAlfiSN4JWg5Vqwu5
OgCg3/hWcsLaDtuaGOcnKqjosSfXQkxgTHCdxBezxp4BnP72BUTT7X06P2zi3kJK
tDkNHoX9Z/icb0ToOzU1yoQaAQKBgQC92wL04+6rAn5yUqA9RtQ0LMMVcxdTQitS
uwyxzxd0AK4ivxoJny7rb9wubDWMqKsxkGBpiB//+YB7zApQzOQH/3Z9OFzZQOsp
OdFFv4/gCBvH527+3vYdfzkiSDNYL/o5TlTn2COC98qMQTyYgRR7dfWQdBuHQ0Cy
C/nXbCl8FQKBgGdw5H6XGW+0VwGCa10mxCdTyjA9MEuyTLl3Y6vkVehZ5xT1acB1
WpSgZdm0X6waSnt3BSnZSiFprGjj+RoP+juSQ+PLP1o/uorKAZK2X2sgHkkseUOs
yIraabX1Yi/+B3xzQoNgjWl970OHD1SNJSC9lRemj6IaywHiNP9yMjwBAoGABSgR
qH0YWmSy8n/0AjYORWyBz+9UTtqZOqIB8kJhrLDoCeGO33wHVjWvkUM3IR7jp3D4
bWVZGSa5qqMcFJ28A8uYeEYzn2L4ACKl4HMXgUo3FvLePOXpYVu3PYsgeeCztyK9
g56HOGNqiOysrKe02rWVedrtdHsLIsrYelVhuxECgYBAAb9n3IsONnUtyxfV9rzL
8wDWPLQgPsWfNcQ5aa8yrcU2dtBDrLnGcGehJncBzlJBNlXtnvPJY83yRTIizuDs
TBcuxUHtatiOPe/SIMJ6ql0IlhPrwlVrOFfa4eeAiZCq5LLOAVYkxtjg+SoC33vf
kGpCqJKjlwAnCsKht2qJUw==
-----END PRIVATE KEY-----
)";
const char* kEcKey = R"(-----BEGIN EC PRIVATE KEY-----
MHcCAQEEID7wRuYvbzvpc3ohRsGXm8rHFtqkKsZ6URl8PuZxQ4HCoAoGCCqGSM49
AwEHoUQDQgAEbReIriOwd2z7RfL2ef8SxKhipw3J7dzEewZ5cN4KCTkZ9h+8T1m8
nA+E2Yaf90TUcJ3PURoMndcBtGgCtQjA/A==
-----END EC PRIVATE KEY-----
)";
const char* kEdKey = R"(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJkFnE5o632ByX86aMNJecuTYRnVANL4yIFs0py+EYm1
-----END PRIVATE KEY-----
)";
const char* kClientKey = R"(-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIM0+q3Rg5XqeA6J1J1wxBrTA7hHU4IgbIaeLoCCV4Sn2oAoGCCqGSM49
AwEHoUQDQgAEESwHQR9iSI5Z/MOAuuRJ+B4SgZ//hCZZbCQpGwdLMLckF2Hkhv4r
iT2zwRuqiv98CTPu++BGQH+3jphTAWFNPA==
-----END EC PRIVATE KEY-----
)";
// clang-format on

const BuiltinRegistry& registry() {
  static const BuiltinRegistry r = [] {
    BuiltinRegistry reg;
    register_x509(reg);
    return reg;
  }();
  return r;
}

constexpr int64_t kSecond = 1000000000;
constexpr int64_t k2027 = 1798761600 * kSecond;  // 2027-01-01T00:00:00Z, inside every validity period

Value call_at(int64_t now_ns, std::string_view name, std::vector<Value> args) {
  const BuiltinInfo* b = registry().find(name);
  if (!b) {
    ADD_FAILURE() << "no builtin " << name;
    return Value();
  }
  EXPECT_EQ(static_cast<size_t>(b->arity), args.size()) << name;
  BuiltinContext ctx;
  ctx.now_ns = now_ns;
  return b->fn(ctx, args);
}

Value call(std::string_view name, std::vector<Value> args) { return call_at(k2027, name, std::move(args)); }

std::string error_of(std::string_view name, std::vector<Value> args, std::string* code = nullptr) {
  try {
    Value v = call(name, std::move(args));
    ADD_FAILURE() << name << " succeeded with " << to_json(v).substr(0, 200);
  } catch (const BuiltinError& e) {
    if (code) *code = e.code;
    return e.what();
  }
  return "";
}

Value S(std::string_view s) { return Value::string(s); }
Value N(std::string_view digits) { return Value::number_from_text(digits); }

// The leaf's EC key (the leaf certificate, the CSR and kEcKey share it).
const char* kLeafX = "49343681310358347091796255426304350525710769791426996556182343293240494131513";
const char* kLeafD = "28467929235736773836987018930157056068015377506541606110099753845517914964418";

Value J(std::string_view json) {
  Value v;
  std::string err;
  EXPECT_TRUE(parse_json(json, v, err)) << err << ": " << json;
  return v;
}

// v[a][b]... with string keys or array indexes.
const Value& at(const Value& v, std::initializer_list<std::variant<const char*, int>> path) {
  static const Value kMissing;
  const Value* cur = &v;
  for (const auto& p : path) {
    if (std::holds_alternative<int>(p)) {
      size_t i = static_cast<size_t>(std::get<int>(p));
      if (!cur->is_array() || i >= cur->array_items().size()) return kMissing;
      cur = &cur->array_items()[i];
    } else {
      cur = cur->get(std::get<const char*>(p));
      if (!cur) return kMissing;
    }
  }
  return *cur;
}

std::string js(const Value& v) { return v.is_undefined() ? "<undefined>" : to_json(v); }

std::string b64(std::string_view in) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    size_t n = std::min<size_t>(3, in.size() - i);
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (n > 1) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (n > 2) v |= static_cast<unsigned char>(in[i + 2]);
    for (size_t j = 0; j < 4; ++j) out.push_back(j <= n ? a[(v >> (18 - 6 * j)) & 63] : '=');
  }
  return out;
}

// The base64 body of a one-block PEM (the DER, base64-encoded).
std::string pem_body(std::string_view pem) {
  std::string out;
  size_t start = pem.find('\n') + 1, end = pem.find("-----END");
  for (char c : pem.substr(start, end - start))
    if (c != '\n') out.push_back(c);
  return out;
}

std::string b64_decode(std::string_view s) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : s) {
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* p = std::strchr(a, c);
    if (!p || c == '\0') continue;
    buf = buf << 6 | static_cast<uint32_t>(p - a);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(buf >> bits));
    }
  }
  return out;
}

std::string chain() { return std::string(kRoot) + kInter + kLeaf; }

// ---------------------------------------------------------------- parse_certificates

TEST(X509, LeafCertificateShape) {
  Value certs = call("crypto.x509.parse_certificates", {S(kLeaf)});
  ASSERT_TRUE(certs.is_array());
  ASSERT_EQ(certs.array_items().size(), 1u);
  const Value& c = certs.array_items()[0];
  EXPECT_EQ(js(at(c, {"Raw"})), "\"" + pem_body(kLeaf) + "\"");
  EXPECT_EQ(js(at(c, {"Version"})), "3");
  EXPECT_EQ(js(at(c, {"SerialNumber"})), "90144042682896311822508713865");
  EXPECT_EQ(js(at(c, {"SignatureAlgorithm"})), "10");  // ECDSAWithSHA256
  EXPECT_EQ(js(at(c, {"PublicKeyAlgorithm"})), "3");   // ECDSA
  EXPECT_EQ(
      at(c, {"PublicKey"}),
      Value::object({{S("Curve"), Value::empty_object()},
                     {S("X"), N(kLeafX)},
                     {S("Y"), N("11742684623480452788385416462948853832544814333797911656481425041144504959228")}}));
  EXPECT_EQ(js(at(c, {"Subject", "CommonName"})), "\"leaf.example.com\"");
  EXPECT_EQ(js(at(c, {"Subject", "Country"})), R"(["US"])");
  EXPECT_EQ(js(at(c, {"Subject", "Province"})), R"(["California"])");
  EXPECT_EQ(js(at(c, {"Subject", "Locality"})), R"(["San Francisco"])");
  EXPECT_EQ(js(at(c, {"Subject", "Organization"})), R"(["Confidant"])");
  EXPECT_EQ(js(at(c, {"Subject", "OrganizationalUnit"})), R"(["Eng","Sec"])");
  EXPECT_EQ(js(at(c, {"Subject", "SerialNumber"})), "\"42\"");
  EXPECT_EQ(js(at(c, {"Subject", "StreetAddress"})), "null");
  EXPECT_EQ(js(at(c, {"Subject", "ExtraNames"})), "null");
  EXPECT_EQ(js(at(c, {"Subject", "Names", 0})), R"({"Type":[2,5,4,6],"Value":"US"})");
  EXPECT_EQ(js(at(c, {"Subject", "Names", 7})), R"({"Type":[2,5,4,5],"Value":"42"})");
  EXPECT_EQ(js(at(c, {"Issuer", "CommonName"})), "\"Confidant Test Intermediate CA\"");
  EXPECT_EQ(js(at(c, {"Issuer", "Organization"})), R"(["Confidant Test"])");
  EXPECT_EQ(js(at(c, {"NotBefore"})).substr(0, 12), "\"2026-11-30T");
  EXPECT_EQ(js(at(c, {"NotAfter"})).substr(0, 12), "\"2036-11-27T");
  EXPECT_EQ(js(at(c, {"KeyUsage"})), "5");  // DigitalSignature | KeyEncipherment
  EXPECT_EQ(js(at(c, {"ExtKeyUsage"})), "[1]");
  EXPECT_EQ(js(at(c, {"UnknownExtKeyUsage"})), "[[1,2,3,4,5]]");
  EXPECT_EQ(js(at(c, {"BasicConstraintsValid"})), "true");
  EXPECT_EQ(js(at(c, {"IsCA"})), "false");
  EXPECT_EQ(js(at(c, {"MaxPathLen"})), "-1");
  EXPECT_EQ(js(at(c, {"MaxPathLenZero"})), "false");
  EXPECT_EQ(js(at(c, {"SubjectKeyId"})), "\"ly2C8ehXuBJvFFRHWSA7cohZUsI=\"");
  EXPECT_EQ(js(at(c, {"AuthorityKeyId"})), "\"7jj3Kdmj5jZ9Q6WDaDHvriWbAP0=\"");
  EXPECT_EQ(js(at(c, {"DNSNames"})), R"(["leaf.example.com","*.wild.example.com"])");
  EXPECT_EQ(js(at(c, {"EmailAddresses"})), R"(["a@example.com"])");
  EXPECT_EQ(js(at(c, {"IPAddresses"})), R"(["10.0.0.1","2001:db8::1"])");
  EXPECT_EQ(js(at(c, {"URIStrings"})), R"(["spiffe://svc.example.com/opa"])");
  EXPECT_EQ(js(at(c, {"URIs", 0})),
            R"({"ForceQuery":false,"Fragment":"","Host":"svc.example.com","OmitHost":false,"Opaque":"","Path":"/opa",)"
            R"("RawFragment":"","RawPath":"","RawQuery":"","Scheme":"spiffe","User":null})");
  EXPECT_EQ(js(at(c, {"OCSPServer"})), R"(["http://ocsp.example.com"])");
  EXPECT_EQ(js(at(c, {"IssuingCertificateURL"})), R"(["http://ca.example.com/inter.crt"])");
  EXPECT_EQ(js(at(c, {"CRLDistributionPoints"})), R"(["http://crl.example.com/inter.crl"])");
  EXPECT_EQ(js(at(c, {"PolicyIdentifiers"})), "[[2,23,140,1,2,1],[1,3,6,1,4,1,99999,1]]");
  EXPECT_EQ(js(at(c, {"Policies"})), R"(["2.23.140.1.2.1","1.3.6.1.4.1.99999.1"])");
  EXPECT_EQ(at(c, {"Extensions"}).array_items().size(), 9u);
  EXPECT_EQ(js(at(c, {"Extensions", 0, "Id"})), "[2,5,29,19]");
  EXPECT_EQ(js(at(c, {"Extensions", 0, "Critical"})), "true");
  EXPECT_EQ(js(at(c, {"Extensions", 0, "Value"})), "\"MAA=\"");  // SEQUENCE {}
  EXPECT_EQ(js(at(c, {"UnhandledCriticalExtensions"})), "null");
  EXPECT_EQ(js(at(c, {"ExtraExtensions"})), "null");
  EXPECT_EQ(js(at(c, {"PermittedDNSDomains"})), "null");
  // The raw sections are pieces of Raw.
  std::string raw = b64_decode(at(c, {"Raw"}).str());
  for (const char* part : {"RawTBSCertificate", "RawSubjectPublicKeyInfo", "RawSubject", "RawIssuer", "Signature"}) {
    std::string bytes = b64_decode(at(c, {part}).str());
    EXPECT_FALSE(bytes.empty()) << part;
    EXPECT_NE(raw.find(bytes), std::string::npos) << part;
  }
}

TEST(X509, CaCertificatesAndNameConstraints) {
  Value certs = call("crypto.x509.parse_certificates", {S(std::string(kRoot) + kInter)});
  ASSERT_EQ(certs.array_items().size(), 2u);
  const Value& root = certs.array_items()[0];
  const Value& inter = certs.array_items()[1];
  EXPECT_EQ(js(at(root, {"IsCA"})), "true");
  EXPECT_EQ(js(at(root, {"MaxPathLen"})), "1");
  EXPECT_EQ(js(at(root, {"KeyUsage"})), "96");  // CertSign | CRLSign
  EXPECT_EQ(js(at(root, {"SerialNumber"})), "1");
  EXPECT_EQ(js(at(root, {"AuthorityKeyId"})), "null");
  EXPECT_TRUE(at(root, {"SubjectKeyId"}).is_string());
  EXPECT_EQ(js(at(inter, {"MaxPathLen"})), "0");
  EXPECT_EQ(js(at(inter, {"MaxPathLenZero"})), "true");
  EXPECT_EQ(js(at(inter, {"PermittedDNSDomainsCritical"})), "true");
  EXPECT_EQ(js(at(inter, {"PermittedDNSDomains"})), R"(["example.com"])");
  EXPECT_EQ(js(at(inter, {"PermittedIPRanges"})),
            R"([{"IP":"10.0.0.0","Mask":"/wAAAA=="},{"IP":"2001:db8::","Mask":"/////wAAAAAAAAAAAAAAAA=="}])");
  EXPECT_EQ(js(at(inter, {"PermittedURIDomains"})), R"([".example.com"])");
  EXPECT_EQ(js(at(inter, {"PermittedEmailAddresses"})), R"(["example.com"])");
  EXPECT_EQ(js(at(inter, {"ExcludedEmailAddresses"})), R"(["bad.example.com"])");
  EXPECT_EQ(js(at(inter, {"ExcludedDNSDomains"})), "null");
  EXPECT_EQ(js(at(inter, {"URIStrings"})), "null");
  EXPECT_EQ(js(at(inter, {"DNSNames"})), "null");
}

TEST(X509, AlgorithmsAndVersions) {
  auto one = [](const char* pem) { return call("crypto.x509.parse_certificates", {S(pem)}).array_items()[0]; };
  Value rsa = one(kRsaCert);
  EXPECT_EQ(js(at(rsa, {"SignatureAlgorithm"})), "5");  // SHA384WithRSA
  EXPECT_EQ(js(at(rsa, {"PublicKeyAlgorithm"})), "1");
  EXPECT_EQ(js(at(rsa, {"PublicKey", "E"})), "65537");
  EXPECT_TRUE(at(rsa, {"PublicKey", "N"}).is_number());
  EXPECT_EQ(js(at(one(kPssCert), {"SignatureAlgorithm"})), "13");  // SHA256WithRSAPSS
  Value ed = one(kEdCert);
  EXPECT_EQ(js(at(ed, {"SignatureAlgorithm"})), "16");  // PureEd25519
  EXPECT_EQ(js(at(ed, {"PublicKeyAlgorithm"})), "4");
  EXPECT_EQ(b64_decode(at(ed, {"PublicKey"}).str()).size(), 32u);
  Value v1 = one(kV1Cert);
  EXPECT_EQ(js(at(v1, {"Version"})), "1");
  EXPECT_EQ(js(at(v1, {"Extensions"})), "null");
  EXPECT_EQ(js(at(v1, {"BasicConstraintsValid"})), "false");
  EXPECT_EQ(js(at(v1, {"MaxPathLen"})), "0");
  EXPECT_EQ(js(at(v1, {"KeyUsage"})), "0");
  EXPECT_EQ(js(at(v1, {"SubjectKeyId"})), "null");
}

TEST(X509, InputForms) {
  auto cns = [](const std::string& input) {
    Value certs = call("crypto.x509.parse_certificates", {S(input)});
    std::string out;
    for (const Value& c : certs.array_items()) out += at(c, {"Subject", "CommonName"}).str() + ";";
    return out;
  };
  std::string want = "Confidant Test Root CA;Confidant Test Intermediate CA;leaf.example.com;";
  EXPECT_EQ(cns(chain()), want);
  EXPECT_EQ(cns(b64(chain())), want);  // base64 of PEM
  std::string der = b64_decode(pem_body(kRoot)) + b64_decode(pem_body(kInter)) + b64_decode(pem_body(kLeaf));
  EXPECT_EQ(cns(b64(der)), want);  // base64 of concatenated DER
  EXPECT_EQ(cns(pem_body(kLeaf)), "leaf.example.com;");
  // CRLF line endings and text around the blocks are fine.
  std::string crlf;
  for (char c : chain()) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(cns(crlf), want);
  EXPECT_EQ(cns(chain() + "trailing words\n"), want);
  // A PEM header with no block parses to nothing.
  EXPECT_EQ(to_json(call("crypto.x509.parse_certificates", {S("-----BEGIN nothing")})), "[]");
}

TEST(X509, ParseErrors) {
  std::string code;
  // cryptox509parsecertificates/invalid DER or PEM data, b64
  EXPECT_EQ(error_of("crypto.x509.parse_certificates", {S("YmFkc3RyaW5n")}, &code),
            "crypto.x509.parse_certificates: x509: malformed certificate");
  EXPECT_EQ(code, "eval_builtin_error");
  EXPECT_EQ(error_of("crypto.x509.parse_certificates", {S("not base64!")}),
            "crypto.x509.parse_certificates: illegal base64 data at input byte 3");
  EXPECT_EQ(error_of("crypto.x509.parse_certificates", {S(std::string(kLeaf) + kEcKey)}),
            "crypto.x509.parse_certificates: PEM block type is 'EC PRIVATE KEY', expected CERTIFICATE");
  std::string truncated = b64_decode(pem_body(kLeaf));
  truncated.resize(truncated.size() - 10);
  EXPECT_EQ(error_of("crypto.x509.parse_certificates", {S(b64(truncated))}),
            "crypto.x509.parse_certificates: x509: malformed certificate");
  EXPECT_EQ(error_of("crypto.x509.parse_certificates", {Value::integer(1)}, &code),
            "crypto.x509.parse_certificates: operand 1 must be string but got number");
  EXPECT_EQ(code, "eval_type_error");
}

// ---------------------------------------------------------------- verification

TEST(X509, VerifyChain) {
  Value r = call("crypto.x509.parse_and_verify_certificates", {S(chain())});
  ASSERT_TRUE(at(r, {0}).is_true()) << js(r).substr(0, 300);
  // The verified chain, leaf first, with OPA's URIStrings.
  EXPECT_EQ(js(at(r, {1, 0, "Subject", "CommonName"})), "\"leaf.example.com\"");
  EXPECT_EQ(js(at(r, {1, 1, "Subject", "CommonName"})), "\"Confidant Test Intermediate CA\"");
  EXPECT_EQ(js(at(r, {1, 2, "Subject", "CommonName"})), "\"Confidant Test Root CA\"");
  EXPECT_EQ(js(at(r, {1, 0, "URIStrings"})), R"(["spiffe://svc.example.com/opa"])");
  EXPECT_EQ(to_json(call("crypto.x509.parse_and_verify_certificates", {S(b64(chain()))})), to_json(r));

  const std::string invalid = "[false,[]]";
  auto verify = [](const std::string& pem, int64_t now = k2027) {
    return to_json(call_at(now, "crypto.x509.parse_and_verify_certificates", {S(pem)}));
  };
  EXPECT_EQ(verify(std::string(kLeaf) + kInter + kRoot), invalid);     // wrong order
  EXPECT_EQ(verify(std::string(kRoot) + kLeaf), invalid);              // missing intermediate
  EXPECT_EQ(verify(kLeaf), invalid);                                   // too few certificates
  EXPECT_EQ(verify(std::string(kRsaCert) + kInter + kLeaf), invalid);  // wrong root
  EXPECT_EQ(verify("garbage"), invalid);                               // unparsable input is just invalid
  EXPECT_EQ(verify(chain(), 1700000000 * kSecond), invalid);           // not yet valid
  EXPECT_EQ(verify(chain(), 2200000000 * kSecond), invalid);           // expired
  // A self-signed certificate verifies against itself as root.
  EXPECT_EQ(verify(std::string(kRsaCert) + kRsaCert).substr(0, 5), "[true");
  // The client certificate lacks serverAuth, Go's default usage.
  EXPECT_EQ(verify(std::string(kRoot) + kInter + kClient), invalid);
}

TEST(X509, VerifyWithOptions) {
  auto verify = [](const std::string& pem, const char* opts) {
    return call("crypto.x509.parse_and_verify_certificates_with_options", {S(pem), J(opts)});
  };
  std::string client = std::string(kRoot) + kInter + kClient;
  EXPECT_TRUE(at(verify(client, R"({"KeyUsages":["KeyUsageClientAuth"]})"), {0}).is_true());
  EXPECT_TRUE(at(verify(client, R"({"KeyUsages":["KeyUsageAny"]})"), {0}).is_true());
  EXPECT_TRUE(at(verify(client, R"({"KeyUsages":["KeyUsageServerAuth"]})"), {0}).is_false());
  EXPECT_TRUE(at(verify(chain(), R"({"KeyUsages":["KeyUsageServerAuth","KeyUsageClientAuth"]})"), {0}).is_true());
  EXPECT_TRUE(at(verify(chain(), R"({"KeyUsages":["KeyUsageCodeSigning"]})"), {0}).is_false());
  Value set_opts = Value::object({{S("KeyUsages"), Value::set({S("KeyUsageClientAuth")})}});
  EXPECT_TRUE(at(call("crypto.x509.parse_and_verify_certificates_with_options", {S(client), set_opts}), {0}).is_true());
  // DNS names match SANs (wildcards included), IPs match IP SANs.
  EXPECT_TRUE(at(verify(chain(), R"({"DNSName":"leaf.example.com"})"), {0}).is_true());
  EXPECT_TRUE(at(verify(chain(), R"({"DNSName":"LEAF.example.com."})"), {0}).is_true());
  EXPECT_TRUE(at(verify(chain(), R"({"DNSName":"x.wild.example.com"})"), {0}).is_true());
  EXPECT_TRUE(at(verify(chain(), R"({"DNSName":"other.example.com"})"), {0}).is_false());
  EXPECT_TRUE(at(verify(chain(), R"({"DNSName":"10.0.0.1"})"), {0}).is_true());
  EXPECT_TRUE(at(verify(chain(), R"({"DNSName":"10.0.0.2"})"), {0}).is_false());
  // CurrentTime (nanoseconds) replaces the clock.
  EXPECT_TRUE(at(verify(chain(), R"({"CurrentTime":1700000000000000000})"), {0}).is_false());
  EXPECT_TRUE(at(verify(chain(), R"({"CurrentTime":1830297600000000000})"), {0}).is_true());
  EXPECT_TRUE(at(verify(chain(), R"({"MaxConstraintComparisons":10})"), {0}).is_true());
  // The bare x509.Certificate: no URIStrings.
  Value r = verify(chain(), "{}");
  EXPECT_TRUE(at(r, {1, 0, "URIStrings"}).is_undefined());
  EXPECT_EQ(js(at(r, {1, 0, "DNSNames", 0})), "\"leaf.example.com\"");

  const char* name = "crypto.x509.parse_and_verify_certificates_with_options";
  auto err = [&](const char* opts) { return error_of(name, {S(chain()), J(opts)}); };
  std::string prefix = std::string(name) + ": ";
  EXPECT_EQ(err(R"({"DNSName":1})"), prefix + "'DNSName' should be a string");
  EXPECT_EQ(err(R"({"CurrentTime":"now"})"), prefix + "'CurrentTime' should be a number");
  EXPECT_EQ(err(R"({"CurrentTime":1.5})"), prefix + "'CurrentTime' should be a valid int64 number");
  EXPECT_EQ(err(R"({"MaxConstraintComparisons":"x"})"), prefix + "'MaxConstraintComparisons' should be a number");
  EXPECT_EQ(err(R"({"KeyUsages":"KeyUsageAny"})"), prefix + "'KeyUsages' should be an Array or Set");
  EXPECT_EQ(err(R"({"KeyUsages":["Foo","KeyUsageAny","Bar"]})"),
            prefix + "invalid entries for 'KeyUsages' found: [Foo Bar]");
  EXPECT_EQ(err(R"({"Bogus":1})"), prefix + "invalid key option");
  // Unparsable certificates win over bad options.
  EXPECT_EQ(to_json(call(name, {S("garbage"), J(R"({"Bogus":1})")})), "[false,[]]");
  EXPECT_EQ(error_of(name, {S(chain()), S("{}")}), prefix + "operand 2 must be object but got string");
}

// ---------------------------------------------------------------- CSR

TEST(X509, CertificateRequest) {
  Value r = call("crypto.x509.parse_certificate_request", {S(kCsr)});
  EXPECT_EQ(js(at(r, {"Subject", "CommonName"})), "\"csr.example.com\"");
  EXPECT_EQ(js(at(r, {"Subject", "Organization"})), R"(["Confidant"])");
  EXPECT_EQ(js(at(r, {"Version"})), "0");
  EXPECT_EQ(js(at(r, {"SignatureAlgorithm"})), "10");
  EXPECT_EQ(js(at(r, {"PublicKeyAlgorithm"})), "3");
  EXPECT_EQ(at(r, {"PublicKey", "X"}), N(kLeafX));
  EXPECT_EQ(js(at(r, {"Raw"})), "\"" + pem_body(kCsr) + "\"");
  EXPECT_EQ(js(at(r, {"DNSNames"})), R"(["csr.example.com"])");
  EXPECT_EQ(js(at(r, {"IPAddresses"})), R"(["192.168.1.1"])");
  EXPECT_EQ(js(at(r, {"EmailAddresses"})), "null");
  EXPECT_EQ(js(at(r, {"URIs", 0})),
            R"({"ForceQuery":false,"Fragment":"","Host":"example.com","OmitHost":false,"Opaque":"",)"
            R"("Path":"/aAb","RawFragment":"","RawPath":"/a%41b","RawQuery":"q=1","Scheme":"https","User":{}})");
  EXPECT_EQ(at(r, {"Extensions"}).array_items().size(), 2u);
  EXPECT_EQ(js(at(r, {"Extensions", 1, "Id"})), "[2,5,29,15]");
  EXPECT_EQ(js(at(r, {"Extensions", 1, "Critical"})), "true");
  // Only the extension request decodes as Go's AttributeTypeAndValueSET.
  EXPECT_EQ(at(r, {"Attributes"}).array_items().size(), 1u);
  EXPECT_EQ(js(at(r, {"Attributes", 0, "Type"})), "[1,2,840,113549,1,9,14]");
  EXPECT_EQ(js(at(r, {"Attributes", 0, "Value", 0, 1})), R"({"Type":[2,5,29,15],"Value":true})");
  EXPECT_EQ(to_json(call("crypto.x509.parse_certificate_request", {S(b64(kCsr))})), to_json(r));
  EXPECT_EQ(to_json(call("crypto.x509.parse_certificate_request", {S(pem_body(kCsr))})), to_json(r));

  const std::string p = "crypto.x509.parse_certificate_request: ";
  EXPECT_EQ(error_of("crypto.x509.parse_certificate_request", {S(b64(kLeaf))}),
            p + "invalid PEM-encoded certificate signing request");
  EXPECT_EQ(error_of("crypto.x509.parse_certificate_request", {S("%%%")}), p + "illegal base64 data at input byte 0");
  EXPECT_NE(error_of("crypto.x509.parse_certificate_request", {S("YmFkc3RyaW5n")}).find("asn1:"), std::string::npos);
  EXPECT_NE(error_of("crypto.x509.parse_certificate_request", {S(pem_body(kLeaf))}).find("asn1:"), std::string::npos);
}

// ---------------------------------------------------------------- keys

TEST(X509, KeyPair) {
  Value kp = call("crypto.x509.parse_keypair", {S(kLeaf), S(kEcKey)});
  EXPECT_EQ(js(at(kp, {"Certificate"})), "[\"" + pem_body(kLeaf) + "\"]");
  EXPECT_EQ(at(kp, {"PrivateKey", "D"}), N(kLeafD));
  EXPECT_EQ(js(at(kp, {"PrivateKey", "Curve"})), "{}");
  EXPECT_EQ(js(at(kp, {"Leaf", "Subject", "CommonName"})), "\"leaf.example.com\"");
  EXPECT_TRUE(at(kp, {"Leaf", "URIStrings"}).is_undefined());
  for (const char* f : {"SupportedSignatureAlgorithms", "OCSPStaple", "SignedCertificateTimestamps"})
    EXPECT_EQ(js(at(kp, {f})), "null") << f;
  // The whole chain is kept; base64 and DER inputs work.
  Value full = call("crypto.x509.parse_keypair", {S(std::string(kLeaf) + kInter), S(b64(kEcKey))});
  EXPECT_EQ(at(full, {"Certificate"}).array_items().size(), 2u);
  Value der = call("crypto.x509.parse_keypair", {S(pem_body(kRsaCert)), S(pem_body(kRsaPkcs8))});
  EXPECT_EQ(js(at(der, {"PrivateKey", "E"})), "65537");
  Value rsa = call("crypto.x509.parse_keypair", {S(kRsaCert), S(kRsaPkcs1)});
  EXPECT_EQ(js(at(rsa, {"PrivateKey", "N"})), js(at(rsa, {"Leaf", "PublicKey", "N"})));
  EXPECT_EQ(at(rsa, {"PrivateKey", "Primes"}).array_items().size(), 2u);
  EXPECT_EQ(js(at(rsa, {"PrivateKey", "Precomputed", "CRTValues"})), "[]");
  Value ed = call("crypto.x509.parse_keypair", {S(kEdCert), S(kEdKey)});
  EXPECT_EQ(b64_decode(at(ed, {"PrivateKey"}).str()).size(), 64u);

  const std::string p = "crypto.x509.parse_keypair: ";
  auto err = [](const std::string& c, const std::string& k) {
    return error_of("crypto.x509.parse_keypair", {S(c), S(k)});
  };
  EXPECT_EQ(err(kLeaf, kClientKey), p + "tls: private key does not match public key");
  EXPECT_EQ(err(kRsaCert, kEcKey), p + "tls: private key type does not match public key type");
  EXPECT_EQ(err(kEcKey, kLeaf),
            p + "tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs "
                "may have been switched");
  EXPECT_EQ(err(kLeaf, kLeaf), p + "tls: found a certificate rather than a key in the PEM for the private key");
  EXPECT_EQ(err(kCsr, kEcKey),
            p + "tls: failed to find \"CERTIFICATE\" PEM block in certificate input after skipping PEM blocks of the "
                "following types: [CERTIFICATE REQUEST]");
  EXPECT_EQ(err(kLeaf, std::string(kCsr) + kRoot),
            p + "tls: failed to find PEM block with type ending in \"PRIVATE KEY\" in key input after skipping PEM "
                "blocks of the following types: [CERTIFICATE REQUEST CERTIFICATE]");
  EXPECT_EQ(err(kLeaf, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"),
            p + "tls: failed to parse private key");
  EXPECT_EQ(err("%%", kEcKey), p + "illegal base64 data at input byte 0");
}

TEST(X509, ParseRsaPrivateKey) {
  const char* name = "crypto.x509.parse_rsa_private_key";
  Value jwk = call(name, {S(kRsaPkcs1)});
  EXPECT_EQ(js(at(jwk, {"kty"})), "\"RSA\"");
  EXPECT_EQ(js(at(jwk, {"e"})), "\"AQAB\"");
  for (const char* f : {"n", "d", "p", "q", "dp", "dq", "qi"}) {
    ASSERT_TRUE(at(jwk, {f}).is_string()) << f;
    EXPECT_EQ(at(jwk, {f}).str().find_first_of("+/="), std::string::npos) << f;  // base64url, unpadded
  }
  EXPECT_EQ(at(jwk, {"n"}).str().size(), 342u);  // 2048 bits
  EXPECT_EQ(to_json(call(name, {S(kRsaPkcs8)})), to_json(jwk));
  EXPECT_EQ(to_json(call(name, {S(b64(kRsaPkcs1))})), to_json(jwk));
  EXPECT_EQ(to_json(call(name, {S(kEcKey)})), R"({"kty":"EC"})");
  EXPECT_EQ(to_json(call(name, {S(kLeaf)})), "null");
  const std::string p = std::string(name) + ": ";
  EXPECT_EQ(error_of(name, {S("")}), p + "input PEM data was empty");
  EXPECT_EQ(error_of(name, {S(kEdKey)}), p + "invalid key type ed25519.PrivateKey");
  EXPECT_EQ(error_of(name, {S("not base64")}), p + "illegal base64 data at input byte 3");
}

TEST(X509, ParsePrivateKeys) {
  const char* name = "crypto.parse_private_keys";
  Value keys = call(name, {S(std::string(kRsaPkcs1) + "junk between\n" + kEcKey + kLeaf + kEdKey + kRsaPkcs8)});
  ASSERT_EQ(keys.array_items().size(), 4u);
  EXPECT_EQ(js(at(keys, {0, "E"})), "65537");
  EXPECT_EQ(js(at(keys, {0, "N"})), js(at(keys, {3, "N"})));
  EXPECT_EQ(js(at(keys, {0, "Precomputed", "Dp"})), js(at(keys, {3, "Precomputed", "Dp"})));
  EXPECT_EQ(at(keys, {1, "D"}), N(kLeafD));
  EXPECT_EQ(at(keys, {1, "X"}), N(kLeafX));
  EXPECT_EQ(b64_decode(at(keys, {2}).str()).size(), 64u);
  EXPECT_EQ(to_json(call(name, {S(b64(kEcKey))})), "[" + js(at(keys, {1})) + "]");
  EXPECT_EQ(to_json(call(name, {S("")})), "null");
  EXPECT_EQ(to_json(call(name, {S(kLeaf)})), "[]");
  EXPECT_EQ(to_json(call(name, {S("no pem at all")})), "[]");
  // A block whose contents do not match its type.
  std::string wrong =
      std::string("-----BEGIN RSA PRIVATE KEY-----\n") + pem_body(kRsaPkcs8) + "\n-----END RSA PRIVATE KEY-----\n";
  EXPECT_EQ(
      error_of(name, {S(wrong)}),
      std::string(name) + ": x509: failed to parse private key (use ParsePKCS8PrivateKey instead for this key format)");
  wrong = std::string("-----BEGIN PRIVATE KEY-----\n") + pem_body(kEcKey) + "\n-----END PRIVATE KEY-----\n";
  EXPECT_EQ(
      error_of(name, {S(wrong)}),
      std::string(name) + ": x509: failed to parse private key (use ParseECPrivateKey instead for this key format)");
  EXPECT_NE(error_of(name, {S("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}), "");
}

// ---------------------------------------------------------------- hostile input

TEST(X509, HostileInputNeverCrashes) {
  std::mt19937 rng(7);
  std::vector<std::string> seeds = {chain(), kCsr, kRsaPkcs1, kEcKey, kEdKey, b64(b64_decode(pem_body(kLeaf)))};
  std::vector<std::string> inputs = {"",
                                     "-----BEGIN CERTIFICATE-----",
                                     "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
                                     std::string(100000, 'A'),
                                     b64(std::string(5000, '\x30')),
                                     b64(std::string("\x30\x84\xff\xff\xff\xff", 6))};
  for (int i = 0; i < 400; ++i) {
    std::string s = seeds[static_cast<size_t>(i) % seeds.size()];
    if (i % 2) {
      s = s.substr(0, rng() % s.size());
    } else {
      for (int k = 0; k < 3; ++k) s[rng() % s.size()] = static_cast<char>(rng());
    }
    inputs.push_back(s);
  }
  // Corrupt DER bytes inside valid base64 as well.
  std::string der = b64_decode(pem_body(kLeaf));
  for (int i = 0; i < 200; ++i) {
    std::string d = der;
    d[rng() % d.size()] = static_cast<char>(rng());
    inputs.push_back(b64(d));
  }
  int ok = 0, errors = 0;
  auto run = [&](std::string_view name, std::vector<Value> args) {
    try {
      call(name, std::move(args));
      ++ok;
    } catch (const BuiltinError&) {
      ++errors;
    }
  };
  for (const std::string& s : inputs) {
    run("crypto.x509.parse_certificates", {S(s)});
    run("crypto.x509.parse_and_verify_certificates", {S(s)});
    run("crypto.x509.parse_and_verify_certificates_with_options", {S(s), J(R"({"DNSName":"a"})")});
    run("crypto.x509.parse_certificate_request", {S(s)});
    run("crypto.x509.parse_keypair", {S(s), S(s)});
    run("crypto.x509.parse_keypair", {S(kLeaf), S(s)});
    run("crypto.x509.parse_rsa_private_key", {S(s)});
    run("crypto.parse_private_keys", {S(s)});
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(errors, 0);
}

}  // namespace
