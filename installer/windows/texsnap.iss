; Inno Setup 6 script: a Windows installer for the one-folder bundle dist\TeXSnap\.
;
; On Windows, from the repository root, after `python installer\build.py` has made dist\TeXSnap\:
;   iscc /DAppVersion=<core.__version__> installer\windows\texsnap.iss
; (`python installer\build.py --installer` does both and passes the version for you.)
; Output: dist\TeXSnap-<version>-windows-x64-setup.exe
;
; The version is never written here: it comes from core/__init__.py through /DAppVersion.
; Uninstalling removes everything in {app}; the user's own files stay in
; %LOCALAPPDATA%\TeXSnap (settings, history, fine-tuned models, cache), as the README says.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z installer\windows\texsnap.iss
#endif
#define AppName "TeXSnap"
#define GuiExe "texsnapw.exe"
#define CliExe "texsnap.exe"

[Setup]
; AppId identifies the app across versions (upgrades, uninstall): never change it.
AppId={{6F0C2E9B-3D41-4A8E-9C57-2B1E8D7A4F10}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=TeXSnap contributors
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; per-user install by default (no admin rights); the user may choose all users
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
SourceDir=..\..
OutputDir=dist
OutputBaseFilename={#AppName}-{#AppVersion}-windows-x64-setup
SetupIconFile=resources\icons\texsnap.ico
UninstallDisplayIcon={app}\{#GuiExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
; torch makes the bundle large: a CUDA build is several GB, over one setup file's limit
DiskSpanning=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "dist\TeXSnap\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#GuiExe}"; Comment: "Turn math in images into LaTeX"
Name: "{group}\Snip a Formula"; Filename: "{app}\{#GuiExe}"; Parameters: "snip"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#GuiExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#GuiExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

