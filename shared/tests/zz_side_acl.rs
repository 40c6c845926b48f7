#![allow(clippy::all)]
use crossguard_engine::*;
use serde_json::{json, Value};

const OWNER: &str = "222222222222";
const OWNER_ID: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const PARTNER_ID: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn al(extra: &str) -> Allowlist {
    Allowlist::from_toml(&format!("version = 1\n{extra}"), "t.toml").unwrap()
}
fn opts() -> Options { Options { today: Date::new(2026, 11, 22).unwrap(), mode: None } }

fn rec(src: &str, name: &str, params: Value, resp: Value) -> Value {
    json!({"eventVersion":"1.09","eventID":"e-1","eventTime":"2026-11-20T10:00:00Z","eventSource":src,"eventName":name,
      "awsRegion":"eu-west-1","recipientAccountId":OWNER,
      "userIdentity":{"type":"AssumedRole","arn":format!("arn:aws:sts::{OWNER}:assumed-role/dev/alice"),"accountId":OWNER},
      "requestParameters":params,"responseElements":resp})
}

fn show(label: &str, a: &Allowlist, r: &Value) {
    match decide_event_text(a, &r.to_string(), opts()) {
        Ok(ds) => for d in ds {
            let f: Vec<String> = d.findings.iter().map(|f| format!("[{} acct={:?} appr={} warn={}]", f.principal, f.account, f.approved, f.warning)).collect();
            let plan = d.remediation.as_ref().map(|p| serde_json::to_string(p).unwrap()).unwrap_or_default();
            println!("## {label}: {:?} action={:?} :: {} :: {} :: plan={}", d.verdict, d.action, d.reason, f.join(" "), plan);
        },
        Err(e) => println!("## {label}: ERR {e}"),
    }
}

#[test]
#[ignore]
fn probe() {
    let a0 = al("");
    let ap = al(&format!("[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"111111111111\"\ncanonical_ids = [\"{PARTNER_ID}\"]\n"));
    let s3 = "s3.amazonaws.com";
    // canned
    for c in ["public-read", "PUBLIC-READ", "authenticated-read", "log-delivery-write", "bucket-owner-read", "private", " public-read"] {
        show(&format!("canned {c:?}"), &a0, &rec(s3, "PutBucketAcl", json!({"bucketName":"b1","acl":[""],"x-amz-acl":[c]}), Value::Null));
        show(&format!("canned-str {c:?}"), &a0, &rec(s3, "PutBucketAcl", json!({"bucketName":"b1","acl":[""],"x-amz-acl":c}), Value::Null));
    }
    // headers
    for h in [
        r#"uri="http://acs.amazonaws.com/groups/global/AllUsers""#,
        r#"uri=http://acs.amazonaws.com/groups/global/AllUsers"#,
        r#"id="cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc""#,
        r#"emailAddress="x@example.com""#,
        r#"id="bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb""#,
        r#"id="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", uri="http://acs.amazonaws.com/groups/global/AllUsers""#,
        r#"uri="http://acs.amazonaws.com/groups/s3/LogDelivery""#,
        r#"id="""#,
        r#"id=""#,
        r#"id="  ""#,
        r#"uri="""#,
        r#"=,"#,
        ",,,",
        " ",
    ] {
        for hn in ["x-amz-grant-read", "x-amz-grant-full-control", "X-Amz-Grant-Write-Acp"] {
            show(&format!("hdr {hn} {h:?}"), &ap, &rec(s3, "PutBucketAcl", json!({"bucketName":"b1","acl":[""],hn:[h]}), Value::Null));
        }
        show(&format!("create hdr {h:?}"), &ap, &rec(s3, "CreateBucket", json!({"bucketName":"b1","x-amz-grant-read":h}), Value::Null));
    }
    // header arrays
    show("hdr arr empty", &ap, &rec(s3, "PutBucketAcl", json!({"bucketName":"b1","x-amz-grant-read":[]}), Value::Null));
    show("hdr arr 2", &ap, &rec(s3, "PutBucketAcl", json!({"bucketName":"b1","x-amz-grant-read":["id=\"x\"", "uri=\"http://acs.amazonaws.com/groups/global/AllUsers\""]}), Value::Null));
    show("hdr null", &ap, &rec(s3, "PutBucketAcl", json!({"bucketName":"b1","x-amz-grant-read":null}), Value::Null));
    show("hdr num", &ap, &rec(s3, "PutBucketAcl", json!({"bucketName":"b1","x-amz-grant-read":5}), Value::Null));
    show("canned null", &ap, &rec(s3, "PutBucketAcl", json!({"bucketName":"b1","x-amz-acl":null}), Value::Null));
    show("canned [null]", &ap, &rec(s3, "PutBucketAcl", json!({"bucketName":"b1","x-amz-acl":[null]}), Value::Null));
    show("create canned null", &ap, &rec(s3, "CreateBucket", json!({"bucketName":"b1","x-amz-acl":null}), Value::Null));
    show("create canned []", &ap, &rec(s3, "CreateBucket", json!({"bucketName":"b1","x-amz-acl":[]}), Value::Null));
    show("create hdr null", &ap, &rec(s3, "CreateBucket", json!({"bucketName":"b1","x-amz-grant-read":null}), Value::Null));
    show("create params null", &ap, &rec(s3, "CreateBucket", Value::Null, Value::Null));
    show("create params str", &ap, &rec(s3, "CreateBucket", json!("x"), Value::Null));
    show("put params null", &ap, &rec(s3, "PutBucketAcl", Value::Null, Value::Null));
    // bodies
    let body = |acl: Value| rec(s3, "PutBucketAcl", json!({"bucketName":"b1","acl":[""],"AccessControlPolicy":acl}), Value::Null);
    let g = |t: &str, k: &str, v: &str, p: &str| json!({"Grantee":{"xsi:type":t, k:v},"Permission":p});
    let all = "http://acs.amazonaws.com/groups/global/AllUsers";
    show("body AllUsers", &ap, &body(json!({"Owner":{"ID":OWNER_ID},"AccessControlList":{"Grant":[g("Group","URI",all,"READ")]}})));
    show("body AllUsers nested list", &ap, &body(json!({"Owner":{"ID":OWNER_ID},"AccessControlList":{"Grant":[[g("Group","URI",all,"READ")]]}})));
    show("body ACL list", &ap, &body(json!({"Owner":{"ID":OWNER_ID},"AccessControlList":[{"Grant":[g("Group","URI",all,"READ")]}]})));
    show("body ACL str", &ap, &body(json!({"Owner":{"ID":OWNER_ID},"AccessControlList":"x"})));
    show("body ACL emptystr", &ap, &body(json!({"Owner":{"ID":OWNER_ID},"AccessControlList":""})));
    show("body no owner partner", &ap, &body(json!({"AccessControlList":{"Grant":g("CanonicalUser","ID",PARTNER_ID,"FULL_CONTROL")}})));
    show("body owner str", &ap, &body(json!({"Owner":OWNER_ID,"AccessControlList":{"Grant":g("Group","URI",all,"READ")}})));
    show("body is string", &ap, &body(json!("<AccessControlPolicy/>")));
    show("body is array", &ap, &body(json!([{"Owner":{"ID":OWNER_ID}}])));
    show("body grant email", &ap, &body(json!({"Owner":{"ID":OWNER_ID},"AccessControlList":{"Grant":g("AmazonCustomerByEmail","EmailAddress","a@b.c","READ")}})));
    show("body grantee Type", &ap, &body(json!({"Owner":{"ID":OWNER_ID},"AccessControlList":{"Grant":{"Grantee":{"Type":"Group","URI":all},"Permission":"READ"}}})));
    show("body partner+stranger", &ap, &body(json!({"Owner":{"ID":OWNER_ID},"AccessControlList":{"Grant":[g("CanonicalUser","ID",OWNER_ID,"FULL_CONTROL"),g("CanonicalUser","ID",PARTNER_ID,"READ"),g("Group","URI",all,"READ")]}})));
    show("body partner upper", &ap, &body(json!({"Owner":{"ID":OWNER_ID},"AccessControlList":{"Grant":[g("CanonicalUser","ID",&PARTNER_ID.to_uppercase(),"READ")]}})));
    show("body 101 grants", &ap, &body(json!({"Owner":{"ID":OWNER_ID},"AccessControlList":{"Grant":vec![g("CanonicalUser","ID",OWNER_ID,"READ"); 101]}})));
}

#[test]
#[ignore]
fn kms() {
    let a0 = al("");
    let key = format!("arn:aws:kms:eu-west-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    let ap = al(&format!("[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"111111111111\"\n"));
    let kms = "kms.amazonaws.com";
    let res = json!({"grantId":"g1"});
    let cases: Vec<(&str, Value)> = vec![
        ("outside root", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::333333333333:root","operations":["Decrypt"]})),
        ("outside acct bare", json!({"keyId":key,"granteePrincipal":"333333333333","operations":["Decrypt"]})),
        ("outside role", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::333333333333:role/x","operations":["Decrypt"]})),
        ("outside role w/ dot", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::333333333333:role/a.b","operations":["Decrypt"]})),
        ("ARN upper", json!({"keyId":key,"granteePrincipal":"ARN:aws:iam::333333333333:root","operations":["Decrypt"]})),
        ("leading space", json!({"keyId":key,"granteePrincipal":" arn:aws:iam::333333333333:root","operations":["Decrypt"]})),
        ("unique id", json!({"keyId":key,"granteePrincipal":"AROAEXAMPLEEXAMPLE","operations":["Decrypt"]})),
        ("infra outside", json!({"keyId":key,"granteePrincipal":"333333333333:aws:ec2-infrastructure:i-1","operations":["Decrypt"]})),
        ("infra owner", json!({"keyId":key,"granteePrincipal":format!("{OWNER}:aws:ec2-infrastructure:i-1"),"operations":["Decrypt"]})),
        ("infra owner-ish arn", json!({"keyId":key,"granteePrincipal":format!("{OWNER}:aws:iam::333333333333:root"),"operations":["Decrypt"]})),
        ("svc", json!({"keyId":key,"granteePrincipal":"s3.amazonaws.com","operations":["Decrypt"]})),
        ("svc w/ outside sourceArn", json!({"keyId":key,"granteePrincipal":"s3.amazonaws.com","operations":["Decrypt"],"constraints":{"sourceArn":"arn:aws:sqs:eu-west-1:333333333333:q"}})),
        ("acct w/ owner sourceArn", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::333333333333:root","operations":["Decrypt"],"constraints":{"sourceArn":format!("arn:aws:sqs:eu-west-1:{OWNER}:q")}})),
        ("acct w/ ctx PrincipalAccount", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::333333333333:root","operations":["Decrypt"],"constraints":{"encryptionContextEquals":{"aws:PrincipalAccount":OWNER}}})),
        ("ops str", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::333333333333:root","operations":"Decrypt"})),
        ("ops empty", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::333333333333:root","operations":[]})),
        ("grantee null + svc", json!({"keyId":key,"granteePrincipal":null,"granteeServicePrincipal":"arn:aws:iam::333333333333:root","operations":["Decrypt"]})),
        ("grantee list", json!({"keyId":key,"granteePrincipal":["arn:aws:iam::333333333333:root"],"operations":["Decrypt"]})),
        ("approved grantee + outside retiring", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::111111111111:root","retiringPrincipal":"arn:aws:iam::333333333333:root","operations":["Decrypt"]})),
        ("outside grantee + approved retiring", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::333333333333:root","retiringPrincipal":"arn:aws:iam::111111111111:root","operations":["Decrypt"]})),
        ("retiring svc+principal", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::111111111111:root","retiringPrincipal":null,"retiringServicePrincipal":"arn:aws:iam::333333333333:root","operations":["Decrypt"]})),
        ("keyId alias", json!({"keyId":"alias/foo","granteePrincipal":"arn:aws:iam::333333333333:root","operations":["Decrypt"]})),
        ("keyId other acct", json!({"keyId":"arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab","granteePrincipal":"arn:aws:iam::333333333333:root","operations":["Decrypt"]})),
        ("grantee other partition", json!({"keyId":key,"granteePrincipal":"arn:aws-cn:iam::333333333333:root","operations":["Decrypt"]})),
        ("grantee sts", json!({"keyId":key,"granteePrincipal":"arn:aws:sts::333333333333:assumed-role/r/s","operations":["Decrypt"]})),
        ("grantee federated", json!({"keyId":key,"granteePrincipal":"arn:aws:sts::333333333333:federated-user/bob","operations":["Decrypt"]})),
        ("grantee wildcard arn", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::*:root","operations":["Decrypt"]})),
        ("grantee star", json!({"keyId":key,"granteePrincipal":"*","operations":["Decrypt"]})),
        ("grantee svc-ish with colon", json!({"keyId":key,"granteePrincipal":"333333333333.dkr:x","operations":["Decrypt"]})),
        ("constraints empty subset", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::333333333333:root","operations":["Decrypt"],"constraints":{"encryptionContextSubset":{}}})),
        ("constraints ctx nonstring", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::333333333333:root","operations":["Decrypt"],"constraints":{"encryptionContextSubset":{"a":["b"]}}})),
    ];
    for (label, p) in cases {
        show(&format!("kms {label}"), &ap, &rec(kms, "CreateGrant", p.clone(), res.clone()));
    }
    let _ = a0;
}

#[test]
#[ignore]
fn bpa() {
    let a0 = al("");
    let apub = al(&format!("[[public]]\nowner = \"{OWNER}\"\nresources = [\"bucket/site\"]\n"));
    let apubq = al(&format!("[[public]]\nowner = \"{OWNER}\"\nresources = [\"role/x\"]\n"));
    let apubt = al(&format!("[[public]]\nowner = \"{OWNER}\"\nresources = [\"key/x\"]\n"));
    let s3 = "s3.amazonaws.com";
    let cfg = |v: Value| json!({"bucketName":"b1","publicAccessBlock":"","PublicAccessBlockConfiguration":v});
    let t = json!(true);
    let cases: Vec<(&str, Value)> = vec![
        ("all true", cfg(json!({"BlockPublicAcls":t,"IgnorePublicAcls":t,"BlockPublicPolicy":t,"RestrictPublicBuckets":t}))),
        ("all TRUE str", cfg(json!({"BlockPublicAcls":"TRUE","IgnorePublicAcls":"True","BlockPublicPolicy":"true","RestrictPublicBuckets":"tRuE"}))),
        ("list of one", cfg(json!({"BlockPublicAcls":[true],"IgnorePublicAcls":t,"BlockPublicPolicy":t,"RestrictPublicBuckets":t}))),
        ("xmlns", cfg(json!({"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","BlockPublicAcls":t,"IgnorePublicAcls":t,"BlockPublicPolicy":t,"RestrictPublicBuckets":t}))),
        ("xmlns obj", cfg(json!({"xmlns":{"BlockPublicAcls":false},"BlockPublicAcls":t,"IgnorePublicAcls":t,"BlockPublicPolicy":t,"RestrictPublicBuckets":t}))),
        ("cfg array", cfg(json!([{"BlockPublicAcls":t,"IgnorePublicAcls":t,"BlockPublicPolicy":t,"RestrictPublicBuckets":t}]))),
        ("cfg null", cfg(Value::Null)),
        ("cfg empty", cfg(json!({}))),
        ("only rpb off", cfg(json!({"BlockPublicAcls":t,"IgnorePublicAcls":t,"BlockPublicPolicy":t,"RestrictPublicBuckets":false}))),
    ];
    for (label, p) in cases {
        show(&format!("bpa {label}"), &a0, &rec(s3, "PutBucketPublicAccessBlock", p.clone(), Value::Null));
    }
    show("bpa lc key", &a0, &rec(s3, "PutBucketPublicAccessBlock", json!({"bucketName":"b1","publicAccessBlockConfiguration":{"BlockPublicAcls":false}}), Value::Null));
    show("bpa two keys", &a0, &rec(s3, "PutBucketPublicAccessBlock", json!({"bucketName":"b1","publicAccessBlockConfiguration":{"BlockPublicAcls":false},"PublicAccessBlockConfiguration":{"BlockPublicAcls":true,"IgnorePublicAcls":true,"BlockPublicPolicy":true,"RestrictPublicBuckets":true}}), Value::Null));
    show("bpa del", &a0, &rec(s3, "DeleteBucketPublicAccessBlock", json!({"bucketName":"b1"}), Value::Null));
    show("bpa del approved other bucket", &apub, &rec(s3, "DeleteBucketPublicAccessBlock", json!({"bucketName":"b1"}), Value::Null));
    show("acct del", &a0, &rec(s3, "DeleteAccountPublicAccessBlock", json!({}), Value::Null));
    show("acct del pub site", &apub, &rec(s3, "DeleteAccountPublicAccessBlock", json!({}), Value::Null));
    show("acct del pub */public-*", &apubq, &rec(s3, "DeleteAccountPublicAccessBlock", json!({}), Value::Null));
    show("acct del pub topic", &apubt, &rec(s3, "DeleteAccountPublicAccessBlock", json!({}), Value::Null));
    show("acct del null params", &a0, &rec(s3, "DeleteAccountPublicAccessBlock", Value::Null, Value::Null));
    show("acct put", &a0, &rec(s3, "PutAccountPublicAccessBlock", json!({"PublicAccessBlockConfiguration":{"BlockPublicAcls":false}}), Value::Null));
    show("acct put other acct hdr", &a0, &rec(s3, "PutAccountPublicAccessBlock", json!({"x-amz-account-id":"333333333333","PublicAccessBlockConfiguration":{"BlockPublicAcls":false}}), Value::Null));
    // a put bucket bpa with bucketName "*"? 
    show("bpa bucket star", &a0, &rec(s3, "PutBucketPublicAccessBlock", json!({"bucketName":"*","PublicAccessBlockConfiguration":{"BlockPublicAcls":false}}), Value::Null));
    // ownership
    for (label, oc) in [
        ("enforced", json!({"Rule":{"ObjectOwnership":"BucketOwnerEnforced"}})),
        ("enforced list", json!({"Rule":[{"ObjectOwnership":"BucketOwnerEnforced"}]})),
        ("enforced 2 rules", json!({"Rule":[{"ObjectOwnership":"BucketOwnerEnforced"},{"ObjectOwnership":"ObjectWriter"}]})),
        ("enforced list-in-list", json!({"Rule":{"ObjectOwnership":["BucketOwnerEnforced"]}})),
        ("enforced + extra", json!({"Rule":{"ObjectOwnership":"BucketOwnerEnforced","ObjectOwnership2":"x"},"xmlns":"x"})),
        ("writer", json!({"Rule":{"ObjectOwnership":"ObjectWriter"}})),
    ] {
        show(&format!("own {label}"), &a0, &rec(s3, "PutBucketOwnershipControls", json!({"bucketName":"b1","OwnershipControls":oc}), Value::Null));
    }
    show("own lc key enforced", &a0, &rec(s3, "PutBucketOwnershipControls", json!({"bucketName":"b1","ownershipControls":{"Rule":{"ObjectOwnership":"ObjectWriter"}},"OwnershipControls":{"Rule":{"ObjectOwnership":"BucketOwnerEnforced"}}}), Value::Null));
    let _ = (apub,);
}

#[test]
#[ignore]
fn ap() {
    let a0 = al("");
    let apair = al(&format!("[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"111111111111\"\n"));
    let s3 = "s3.amazonaws.com";
    let mk = |ui_acct: &str, params: Value| {
        let mut r = rec(s3, "CreateAccessPoint", params, Value::Null);
        r["userIdentity"]["accountId"] = json!(ui_acct);
        r["userIdentity"]["arn"] = json!(format!("arn:aws:sts::{ui_acct}:assumed-role/dev/alice"));
        r
    };
    let cases: Vec<(&str, &str, Value)> = vec![
        ("x-acct", "333333333333", json!({"name":"ap1","x-amz-account-id":"333333333333","CreateAccessPointRequest":{"Bucket":"b1","BucketAccountId":OWNER}})),
        ("no bucketacct", "333333333333", json!({"name":"ap1","x-amz-account-id":"333333333333","CreateAccessPointRequest":{"Bucket":"b1"}})),
        ("bucketacct empty", "333333333333", json!({"name":"ap1","x-amz-account-id":"333333333333","CreateAccessPointRequest":{"Bucket":"b1","BucketAccountId":""}})),
        ("hdr upper", "333333333333", json!({"name":"ap1","X-Amz-Account-Id":"333333333333","CreateAccessPointRequest":{"Bucket":"b1","BucketAccountId":OWNER}})),
        ("hdr owner caller other", "333333333333", json!({"name":"ap1","x-amz-account-id":OWNER,"CreateAccessPointRequest":{"Bucket":"b1","BucketAccountId":OWNER}})),
        ("same", OWNER, json!({"name":"ap1","x-amz-account-id":OWNER,"CreateAccessPointRequest":{"Bucket":"b1","BucketAccountId":OWNER}})),
        ("bucket arn", "333333333333", json!({"name":"ap1","x-amz-account-id":"333333333333","CreateAccessPointRequest":{"Bucket":"arn:aws:s3:::b1","BucketAccountId":OWNER}})),
        ("bucket arn other", "333333333333", json!({"name":"ap1","x-amz-account-id":"333333333333","CreateAccessPointRequest":{"Bucket":"arn:aws:s3-outposts:eu-west-1:444444444444:outpost/op-1/bucket/b1","BucketAccountId":OWNER}})),
        ("approved", "111111111111", json!({"name":"ap1","x-amz-account-id":"111111111111","CreateAccessPointRequest":{"Bucket":"b1","BucketAccountId":OWNER}})),
        ("hdr list", "333333333333", json!({"name":"ap1","x-amz-account-id":["333333333333"],"CreateAccessPointRequest":{"Bucket":"b1","BucketAccountId":OWNER}})),
        ("hdr list2", "333333333333", json!({"name":"ap1","x-amz-account-id":["333333333333", OWNER],"CreateAccessPointRequest":{"Bucket":"b1","BucketAccountId":OWNER}})),
        ("hdr bad, ui owner", OWNER, json!({"name":"ap1","x-amz-account-id":"33333333333x","CreateAccessPointRequest":{"Bucket":"b1","BucketAccountId":OWNER}})),
    ];
    for (label, ui, p) in cases {
        let r = mk(ui, p);
        show(&format!("ap {label}"), &apair, &r);
        let mut r2 = r.clone(); r2["recipientAccountId"] = json!(ui);
        show(&format!("ap {label} (recip=ui)"), &apair, &r2);
    }
    // access point policy
    let pol = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":format!("arn:aws:s3:eu-west-1:{OWNER}:accesspoint/ap1/object/*")}]});
    show("app std", &a0, &rec(s3, "PutAccessPointPolicy", json!({"name":"ap1","x-amz-account-id":OWNER,"PutAccessPointPolicyRequest":{"Policy":pol.to_string()}}), Value::Null));
    show("app both paths", &a0, &rec(s3, "PutAccessPointPolicy", json!({"name":"ap1","policy":"{\"Version\":\"2012-10-17\",\"Statement\":[]}","PutAccessPointPolicyRequest":{"Policy":pol.to_string()}}), Value::Null));
    show("app both paths rev", &a0, &rec(s3, "PutAccessPointPolicy", json!({"name":"ap1","policy":pol.to_string(),"PutAccessPointPolicyRequest":{"Policy":"{\"Version\":\"2012-10-17\",\"Statement\":[]}"}}), Value::Null));
    show("app lc req", &a0, &rec(s3, "PutAccessPointPolicy", json!({"name":"ap1","putAccessPointPolicyRequest":{"Policy":pol.to_string()}}), Value::Null));
    show("app name arn other acct", &a0, &rec(s3, "PutAccessPointPolicy", json!({"name":"arn:aws:s3:eu-west-1:333333333333:accesspoint/ap1","PutAccessPointPolicyRequest":{"Policy":pol.to_string()}}), Value::Null));
    show("app x-acct hdr other", &a0, &rec(s3, "PutAccessPointPolicy", json!({"name":"ap1","x-amz-account-id":"333333333333","PutAccessPointPolicyRequest":{"Policy":pol.to_string()}}), Value::Null));
    let _ = a0;
}

#[test]
#[ignore]
fn kms2() {
    let key = format!("arn:aws:kms:eu-west-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    let ap = al(&format!("[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"111111111111\"\n"));
    let kms = "kms.amazonaws.com";
    let res = json!({"grantId":"g1"});
    let cases: Vec<(&str, Value)> = vec![
        ("both grantee", json!({"keyId":key,"granteePrincipal":format!("arn:aws:iam::{OWNER}:role/r"),"granteeServicePrincipal":"s3.amazonaws.com","operations":["Decrypt"],"constraints":{"sourceArn":"arn:aws:sqs:eu-west-1:333333333333:q"}})),
        ("both retiring", json!({"keyId":key,"granteePrincipal":format!("arn:aws:iam::{OWNER}:role/r"),"retiringPrincipal":format!("arn:aws:iam::{OWNER}:role/r"),"retiringServicePrincipal":"arn:aws:iam::333333333333:root","operations":["Decrypt"]})),
        ("svc srcarn s3", json!({"keyId":key,"granteeServicePrincipal":"s3.amazonaws.com","operations":["Decrypt"],"constraints":{"sourceArn":"arn:aws:s3:::attacker-bucket"}})),
        ("svc srcarn wild acct", json!({"keyId":key,"granteeServicePrincipal":"sqs.amazonaws.com","operations":["Decrypt"],"constraints":{"sourceArn":"arn:aws:sqs:eu-west-1:*:q"}})),
        ("svc srcarn ? acct", json!({"keyId":key,"granteeServicePrincipal":"sqs.amazonaws.com","operations":["Decrypt"],"constraints":{"sourceArn":format!("arn:aws:sqs:eu-west-1:22222222222?:q")}})),
        ("svc srcarn owner", json!({"keyId":key,"granteeServicePrincipal":"sqs.amazonaws.com","operations":["Decrypt"],"constraints":{"sourceArn":format!("arn:aws:sqs:eu-west-1:{OWNER}:q")}})),
        ("svc no-dot", json!({"keyId":key,"granteeServicePrincipal":"sqs","operations":["Decrypt"]})),
        ("ec2 infra other acct svcish", json!({"keyId":key,"granteePrincipal":format!("{OWNER}:aws:ec2-infrastructure"),"retiringPrincipal":"333333333333:aws:ec2-infrastructure","operations":["Decrypt"]})),
        ("constraints both null", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::333333333333:root","operations":["Decrypt"],"constraints":{"encryptionContextSubset":null,"encryptionContextEquals":null}})),
        ("ops with null", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::333333333333:root","operations":["Decrypt", null]})),
        ("ops lowercase", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::111111111111:root","operations":["decrypt"]})),
    ];
    for (label, p) in cases {
        show(&format!("kms2 {label}"), &ap, &rec(kms, "CreateGrant", p.clone(), res.clone()));
    }
    let apx = al(&format!("[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"111111111111\"\nactions = [\"kms:Decrypt\"]\n"));
    show("kms2 approved decrypt only, grantee ops Decrypt+CreateGrant", &apx, &rec(kms, "CreateGrant", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::111111111111:root","operations":["Decrypt","CreateGrant"]}), res.clone()));
    show("kms2 approved decrypt only, retiring approved", &apx, &rec(kms, "CreateGrant", json!({"keyId":key,"granteePrincipal":"arn:aws:iam::111111111111:root","retiringPrincipal":"arn:aws:iam::111111111111:root","operations":["Decrypt"]}), res.clone()));
}

#[test]
fn panics() {
    let a = al(&format!("[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"111111111111\"\ncanonical_ids = [\"{PARTNER_ID}\"]\n[[public]]\nowner = \"*\"\nresources = [\"bucket/*\"]\n"));
    let weird: Vec<String> = vec!["", " ", "*", "arn:", "arn:aws:s3:::", "arn:aws:s3:::b", "arn:aws:s3:eu-west-1:333333333333:accesspoint/", "arn:aws:s3:eu-west-1:333333333333:accesspoint/x/y",
        "arn:aws:kms:eu-west-1:222222222222:", "arn:aws:kms:eu-west-1:222222222222:key/", "arn:aws:kms::222222222222:key/k", "ü", "büçket", "\u{feff}b1", "a/b", "..", "b1\n", &"x".repeat(3000),
        "arn:aws-cn:s3:::b", "arn:aws:s3-outposts:eu-west-1:444444444444:outpost/op-1/bucket/", "arn:aws:iam::222222222222:root", "222222222222", "arn:aws:s3:::b/ü", "ARN:aws:s3:::b", "arn:aws:kms:ü:222222222222:key/k", "arn:aws:kms:eu-west-1:22222222222ü:key/k",
        "id=\"ü\"", "uri=\"ü", "emailAddress=ü@ü", "id=\u{feff}", "=", "id", "id==", ",id=a,", "\"", "\u{0}"].into_iter().map(String::from).collect();
    let regions = ["eu-west-1", "", "ü", "cn-north-1", "us-gov-west-1", "x"];
    let mut n = 0;
    for w in &weird {
        for r in &regions {
            let recs = vec![
                ("s3.amazonaws.com", "PutBucketAcl", json!({"bucketName": w, "x-amz-grant-read": w})),
                ("s3.amazonaws.com", "PutBucketAcl", json!({"bucketName": "b1", "x-amz-grant-read": w})),
                ("s3.amazonaws.com", "PutBucketAcl", json!({"bucketName": "b1", "x-amz-acl": w})),
                ("s3.amazonaws.com", "PutBucketAcl", json!({"bucketName": "b1", "AccessControlPolicy": {"Owner": {"ID": w}, "AccessControlList": {"Grant": [{"Grantee": {"xsi:type": "CanonicalUser", "ID": w}, "Permission": "READ"}, {"Grantee": {"xsi:type": "Group", "URI": w}, "Permission": "READ"}]}}})),
                ("s3.amazonaws.com", "CreateBucket", json!({"bucketName": w, "x-amz-acl": "public-read"})),
                ("s3.amazonaws.com", "CreateAccessPoint", json!({"name": w, "x-amz-account-id": "333333333333", "CreateAccessPointRequest": {"Bucket": w, "BucketAccountId": OWNER}})),
                ("s3.amazonaws.com", "CreateAccessPoint", json!({"name": w, "x-amz-account-id": w, "CreateAccessPointRequest": {"Bucket": "b1", "BucketAccountId": w}})),
                ("s3.amazonaws.com", "PutAccessPointPolicy", json!({"name": w, "PutAccessPointPolicyRequest": {"Policy": "{\"Version\":\"2012-10-17\",\"Statement\":[]}"}})),
                ("s3.amazonaws.com", "PutBucketPublicAccessBlock", json!({"bucketName": w, "PublicAccessBlockConfiguration": {"BlockPublicAcls": w}})),
                ("s3.amazonaws.com", "PutAccountPublicAccessBlock", json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": false}})),
                ("s3.amazonaws.com", "PutBucketOwnershipControls", json!({"bucketName": w, "OwnershipControls": {"Rule": {"ObjectOwnership": w}}})),
                ("kms.amazonaws.com", "CreateGrant", json!({"keyId": w, "granteePrincipal": w, "retiringPrincipal": w, "operations": [w], "constraints": {"sourceArn": w, "encryptionContextSubset": {w.clone(): w}}})),
                ("kms.amazonaws.com", "CreateGrant", json!({"keyId": "k", "granteePrincipal": format!("{w}:aws:x"), "operations": ["Decrypt"]})),
            ];
            for (src, name, p) in recs {
                let mut rr = rec(src, name, p, json!({"grantId": w}));
                rr["awsRegion"] = json!(r);
                n += 1;
                let text = rr.to_string();
                let res = std::panic::catch_unwind(|| decide_event_text(&a, &text, opts()));
                if res.is_err() { println!("## PANIC {name} w={w:?} region={r:?}"); }
                // also with resources entry
                let mut r2 = rr.clone();
                r2["resources"] = json!([{"type":"AWS::S3::Bucket","ARN":w,"accountId":w},{"type":"AWS::KMS::Key","ARN":w,"accountId":w}]);
                let text = r2.to_string();
                if std::panic::catch_unwind(|| decide_event_text(&a, &text, opts())).is_err() { println!("## PANIC2 {name} w={w:?} region={r:?}"); }
            }
        }
    }
    println!("## ran {n}");
}
